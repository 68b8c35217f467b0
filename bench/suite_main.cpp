// doctest's main() alone, as in tests/main.cpp: the suite process of the benchmarks is this
// plus suite_model.cpp.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

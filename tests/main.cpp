// doctest's main() lives alone in this translation unit: it is the slowest to compile and
// never changes.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

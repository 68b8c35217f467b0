// doctest's main(), compiled once into libnnprobe_doctest_main.a (as gtest_main is for
// GoogleTest): it is the slowest translation unit of a test program and never changes, so a
// user's test program links it and compiles only its own test files.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#pragma once
// doctest glue: assertions that print a verdict's explanation on failure, and one line that
// generates the standard suite as one TEST_CASE per check ("iris-mlp/overfits", ...), so
// doctest's -tc/-sc filters and reporters work as usual.
#include <doctest/doctest.h>

#include "suite.hpp"

#define NNP_CHECK(...)                                                   \
    do {                                                                 \
        const ::nnp::verdict& nnp_verdict_ = (__VA_ARGS__);              \
        CHECK_MESSAGE(nnp_verdict_.passed, nnp_verdict_.explanation);    \
    } while (false)

#define NNP_REQUIRE(...)                                                 \
    do {                                                                 \
        const ::nnp::verdict& nnp_verdict_ = (__VA_ARGS__);              \
        REQUIRE_MESSAGE(nnp_verdict_.passed, nnp_verdict_.explanation);  \
    } while (false)

// Every check of the standard suite on one pipeline, inside the current test case.
#define NNP_CHECK_PROBES(pipe, data, ...)                                          \
    for (const ::nnp::verdict& nnp_verdict_ : ::nnp::probe_suite(pipe, data, ##__VA_ARGS__)) \
    CHECK_MESSAGE(nnp_verdict_.passed, nnp_verdict_.explanation)

// The standard suite as four test cases named name "/overfits", name "/gradients_flow", ...
// `data` is an expression evaluated in each case (a function returning a cached data set).
#define NNP_PROBE_SUITE(name, pipe, data, ...)                                                 \
    TEST_CASE(name "/overfits") { NNP_CHECK(::nnp::overfits(pipe, data, ##__VA_ARGS__)); }     \
    TEST_CASE(name "/gradients_flow") {                                                        \
        NNP_CHECK(::nnp::gradients_flow(pipe, data, ##__VA_ARGS__));                           \
    }                                                                                          \
    TEST_CASE(name "/all_layers_change") {                                                     \
        NNP_CHECK(::nnp::all_layers_change(pipe, data, ##__VA_ARGS__));                        \
    }                                                                                          \
    TEST_CASE(name "/batch_invariance") {                                                      \
        NNP_CHECK(::nnp::batch_invariance(pipe, data, ##__VA_ARGS__));                         \
    }

#pragma once
// doctest glue: assertions on verdicts, and one line that generates the standard suite as
// one TEST_CASE per check ("iris-mlp/overfits", ...) inside a TEST_SUITE named after the
// pipeline, so doctest's -tc/-ts/-sc filters and reporters work as usual.
//
// A failing probe reads like a failing CHECK on the verdict:
//   ERROR: CHECK( probe ) is NOT correct!
//     values: CHECK( FAIL overfits: the loss is stuck at chance after 600 steps ... )
// and JUnit/XML reporters carry the explanation as the failure message.
//
// With NNP_VERDICTS_JSON=path in the environment, every verdict checked in the run is
// written to `path` as JSON at the end of the run (see json.hpp).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "after_a_failed_check.hpp"
#include "json.hpp"
#include "suite.hpp"

namespace doctest {
template <>
struct StringMaker<nnp::verdict> {
    static String convert(const nnp::verdict& v) {
        const std::string text = (v.passed ? "PASS " : "FAIL ") + v.explanation;
        return String(text.c_str(), static_cast<String::size_type>(text.size()));
    }
};
}  // namespace doctest

namespace nnp::detail {

// The verdicts checked in this process, each with the test case that checked it.
struct verdict_log {
    std::vector<labelled_verdict> verdicts;
    std::string current_case;
    static verdict_log& get() {
        static verdict_log log;
        return log;
    }
};
inline const verdict& logged(const verdict& v) {
    auto& log = verdict_log::get();
    log.verdicts.push_back({log.current_case, v});
    return v;
}

// A doctest listener: it knows the current test case and writes the JSON at the end.
struct json_listener : doctest::IReporter {
    explicit json_listener(const doctest::ContextOptions&) {}
    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_run_end(const doctest::TestRunStats&) override {
        const char* path = std::getenv("NNP_VERDICTS_JSON");
        if (!path || !*path) return;
        try {
            write_json_verdicts(path, verdict_log::get().verdicts);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "%s\n", e.what());
        }
    }
    void test_case_start(const doctest::TestCaseData& tc) override { verdict_log::get().current_case = tc.m_name; }
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats&) override {}
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}
    void test_case_skipped(const doctest::TestCaseData&) override {}
};
// One registration for the whole program, however many translation units include this.
inline const int json_listener_registered =
    doctest::registerReporter<json_listener>("nnprobe-json", 0, false);

}  // namespace nnp::detail

#define NNP_CHECK(...)                                                       \
    do {                                                                     \
        const ::nnp::verdict probe = ::nnp::detail::logged(__VA_ARGS__);     \
        CHECK(probe);                                                        \
    } while (false)

#define NNP_REQUIRE(...)                                                     \
    do {                                                                     \
        const ::nnp::verdict probe = ::nnp::detail::logged(__VA_ARGS__);     \
        REQUIRE(probe);                                                      \
    } while (false)

// Every check of the standard suite on one pipeline, inside the current test case.
#define NNP_CHECK_PROBES(pipe, data, ...)                                                           \
    for (const ::nnp::verdict& nnp_verdict_ : ::nnp::probe_suite(pipe, data __VA_OPT__(, ) __VA_ARGS__)) \
    NNP_CHECK(nnp_verdict_)

// The standard suite as test cases named name "/overfits", name "/gradients_flow", ... in
// the test suite `name`. `data` is an expression evaluated in each case (a function
// returning a cached data set).
#define NNP_DETAIL_PROBE_CASE(name, check, pipe, data, ...)                              \
    TEST_CASE(name "/" #check * doctest::test_suite(name)) {                             \
        NNP_CHECK(::nnp::check(pipe, data __VA_OPT__(, ) __VA_ARGS__));                  \
    }
#define NNP_PROBE_SUITE(name, pipe, data, ...)                                              \
    NNP_DETAIL_PROBE_CASE(name, overfits, pipe, data __VA_OPT__(, ) __VA_ARGS__)            \
    NNP_DETAIL_PROBE_CASE(name, gradients_flow, pipe, data __VA_OPT__(, ) __VA_ARGS__)      \
    NNP_DETAIL_PROBE_CASE(name, all_layers_change, pipe, data __VA_OPT__(, ) __VA_ARGS__)   \
    NNP_DETAIL_PROBE_CASE(name, batch_invariance, pipe, data __VA_OPT__(, ) __VA_ARGS__)    \
    NNP_DETAIL_PROBE_CASE(name, init_sane, pipe, data __VA_OPT__(, ) __VA_ARGS__)           \
    NNP_DETAIL_PROBE_CASE(name, determinism, pipe, data __VA_OPT__(, ) __VA_ARGS__)         \
    NNP_DETAIL_PROBE_CASE(name, cross_sample_independence, pipe, data __VA_OPT__(, ) __VA_ARGS__) \
    NNP_DETAIL_PROBE_CASE(name, finite, pipe, data __VA_OPT__(, ) __VA_ARGS__)

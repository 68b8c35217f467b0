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
//
// The generated cases read two more variables: NNP_SEED=17 runs them on seed 17 (in place of
// the options' run_seed), NNP_SEEDS=50 runs each over 50 seeds from there and reports the pass
// rate, the failing seeds and the command that replays one:
//   NNP_SEEDS=50 ./tests -ts=iris-mlp
//   ... FAIL overfits over seeds 1-50: 49 of 50 seeds pass (98%); failing seeds: 17; replay
//   one: NNP_SEED=17 ./tests -tc='iris-mlp/overfits'; seed 17: overfits: ...
// A failing check on a pipeline with stages of the user's own names the stage whose
// replacement makes it pass (guilty_stage.hpp).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <nnprobe/function_ref.hpp>

#include "after_a_failed_check.hpp"
#include "json.hpp"
#include "seed_sweep.hpp"
#include "suite.hpp"

namespace doctest {
template <>
struct StringMaker<nnp::verdict> {
    static String convert(const nnp::verdict& v);
};
}  // namespace doctest

// The glue below that is not a template is compiled once, in the library (src/doctest_glue.cpp),
// not in every test file: it uses doctest's functions, which the program's doctest main (the
// prebuilt one, or the user's own) defines.
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
const verdict& logged(const verdict& v);

// doctest's CHECK(probe) (or REQUIRE) on a verdict, as if written at `file`:`line`: out of line,
// where doctest's assertion code expanded in each generated case would cost every test file
// its code and compile time.
bool check_verdict(const verdict& probe, doctest::assertType::Enum at, const char* file, int line);

// A doctest listener: it knows the current test case and writes the JSON at the end.
struct json_listener : doctest::IReporter {
    explicit json_listener(const doctest::ContextOptions&) {}
    void report_query(const doctest::QueryData&) override;
    void test_run_start() override;
    void test_run_end(const doctest::TestRunStats&) override;
    void test_case_start(const doctest::TestCaseData& tc) override;
    void test_case_reenter(const doctest::TestCaseData&) override;
    void test_case_end(const doctest::CurrentTestCaseStats&) override;
    void test_case_exception(const doctest::TestCaseException&) override;
    void subcase_start(const doctest::SubcaseSignature&) override;
    void subcase_end() override;
    void log_assert(const doctest::AssertData&) override;
    void log_message(const doctest::MessageData&) override;
    void test_case_skipped(const doctest::TestCaseData&) override;
};
// One registration for the whole program, however many translation units include this.
inline const int json_listener_registered =
    doctest::registerReporter<json_listener>("nnprobe-json", 0, false);

// A whole number from the environment variable `name`, or 0 when it is not set; anything
// but digits is an nnp::error naming the variable.
std::uint64_t environment_count(const char* name);

// The options of a generated case: the given ones, on the seed NNP_SEED names when set.
probe_options glue_options(probe_options o = {});

// A sweep as one verdict: it passes when every seed does, and a failure names the seeds, the
// command that replays the first, and that seed's explanation.
verdict sweep_verdict(const sweep_result& r);

// One generated case, once the check is bound to its pipeline: run once, or with
// NNP_SEEDS=N over N seeds as one verdict that passes when every seed does. Not a template:
// compiled once, not once per check.
verdict glue_run(function_ref<std::vector<verdict>(const probe_options&)> one, const probe_options& o);

// The checks of the standard suite, in NNP_PROBE_SUITE's order.
enum class standard_check {
    overfits,
    gradients_flow,
    all_layers_change,
    batch_invariance,
    init_sane,
    determinism,
    cross_sample_independence,
    finite,
    gradient_check,
    unit_health
};
// Check `c` on a pipeline's target, or "not run" without one (a pipeline that failed a static
// check): one switch, compiled once (src/doctest_glue.cpp).
verdict standard_check_on(standard_check c, probe_target<float>* target, const probe_options& o);
// Check `c` on pipeline `p`: the one target the ten generated cases of a pipeline share.
template <class P, class D>
verdict run_standard_check(standard_check c, const P& p, const D& data, const probe_options& o) {
    if constexpr (is_pipeline<P>) {
        const typename P::dataset_type& ds = data;  // converted once, alive for the whole check
        pipeline_target<float, P> t(p, ds, o);
        return standard_check_on(c, &t, o);
    } else {
        return standard_check_on(c, nullptr, o);
    }
}

// One generated case: the check through blame_stage, run by glue_run. The check is a value, not
// a type: the ten cases of a pipeline share one instantiation (and blame_stage's reruns).
template <class P, class D>
verdict glue_check(standard_check c, const P& p, const D& data, const probe_options& o) {
    return glue_run(
        [&](const probe_options& oo) {
            return as_verdicts(blame_stage(
                [c](const auto& q, const auto& d, const auto& ooo) { return run_standard_check(c, q, d, ooo); }, p,
                data, oo));
        },
        o);
}

}  // namespace nnp::detail

// CHECK(probe) / REQUIRE(probe) on the verdict, reported at the caller's file and line.
#define NNP_CHECK(...)                                                                                   \
    ::nnp::detail::check_verdict(::nnp::detail::logged(__VA_ARGS__), ::doctest::assertType::DT_CHECK, \
                                 __FILE__, __LINE__)

#define NNP_REQUIRE(...)                                                                                 \
    ::nnp::detail::check_verdict(::nnp::detail::logged(__VA_ARGS__), ::doctest::assertType::DT_REQUIRE, \
                                 __FILE__, __LINE__)

// Every check of the standard suite on one pipeline, inside the current test case.
#define NNP_CHECK_PROBES(pipe, data, ...)                                                           \
    for (const ::nnp::verdict& nnp_verdict_ : ::nnp::probe_suite(pipe, data __VA_OPT__(, ) __VA_ARGS__)) \
    NNP_CHECK(nnp_verdict_)

// The standard suite as test cases named name "/overfits", name "/gradients_flow", ... in
// the test suite `name`. `data` is an expression evaluated in each case (a function
// returning a cached data set); the options, when given, are one probe_options.
#define NNP_DETAIL_PROBE_CASE(name, check, pipe, data, ...)                                              \
    TEST_CASE(name "/" #check * doctest::test_suite(name)) {                                             \
        NNP_CHECK(::nnp::detail::glue_check(::nnp::detail::standard_check::check, pipe, data,             \
                                            ::nnp::detail::glue_options(__VA_ARGS__)));                  \
    }
#define NNP_PROBE_SUITE(name, pipe, data, ...)                                              \
    NNP_DETAIL_PROBE_CASE(name, overfits, pipe, data __VA_OPT__(, ) __VA_ARGS__)            \
    NNP_DETAIL_PROBE_CASE(name, gradients_flow, pipe, data __VA_OPT__(, ) __VA_ARGS__)      \
    NNP_DETAIL_PROBE_CASE(name, all_layers_change, pipe, data __VA_OPT__(, ) __VA_ARGS__)   \
    NNP_DETAIL_PROBE_CASE(name, batch_invariance, pipe, data __VA_OPT__(, ) __VA_ARGS__)    \
    NNP_DETAIL_PROBE_CASE(name, init_sane, pipe, data __VA_OPT__(, ) __VA_ARGS__)           \
    NNP_DETAIL_PROBE_CASE(name, determinism, pipe, data __VA_OPT__(, ) __VA_ARGS__)         \
    NNP_DETAIL_PROBE_CASE(name, cross_sample_independence, pipe, data __VA_OPT__(, ) __VA_ARGS__) \
    NNP_DETAIL_PROBE_CASE(name, finite, pipe, data __VA_OPT__(, ) __VA_ARGS__)              \
    NNP_DETAIL_PROBE_CASE(name, gradient_check, pipe, data __VA_OPT__(, ) __VA_ARGS__)      \
    NNP_DETAIL_PROBE_CASE(name, unit_health, pipe, data __VA_OPT__(, ) __VA_ARGS__)

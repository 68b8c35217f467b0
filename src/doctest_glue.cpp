// The doctest glue that is not a template (probes/nnprobe/probes/doctest.hpp), compiled once
// here. doctest's own functions come from the program's doctest main, the prebuilt one
// (libnnprobe_doctest_main) or the user's.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include <fmt/core.h>

#include <nnprobe/probes/doctest.hpp>

namespace doctest {
String StringMaker<nnp::verdict>::convert(const nnp::verdict& v) {
    const std::string text = (v.passed ? "PASS " : "FAIL ") + v.explanation;
    return String(text.c_str(), static_cast<String::size_type>(text.size()));
}
}  // namespace doctest

namespace nnp::detail {

const verdict& logged(const verdict& v) {
    auto& log = verdict_log::get();
    log.verdicts.push_back({log.current_case, v});
    return v;
}

void json_listener::report_query(const doctest::QueryData&) {}
void json_listener::test_run_start() {}
void json_listener::test_run_end(const doctest::TestRunStats&) {
    const char* path = std::getenv("NNP_VERDICTS_JSON");
    if (!path || !*path) return;
    try {
        write_json_verdicts(path, verdict_log::get().verdicts);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
    }
}
void json_listener::test_case_start(const doctest::TestCaseData& tc) { verdict_log::get().current_case = tc.m_name; }
void json_listener::test_case_reenter(const doctest::TestCaseData&) {}
void json_listener::test_case_end(const doctest::CurrentTestCaseStats&) {}
void json_listener::test_case_exception(const doctest::TestCaseException&) {}
void json_listener::subcase_start(const doctest::SubcaseSignature&) {}
void json_listener::subcase_end() {}
void json_listener::log_assert(const doctest::AssertData&) {}
void json_listener::log_message(const doctest::MessageData&) {}
void json_listener::test_case_skipped(const doctest::TestCaseData&) {}

std::uint64_t environment_count(const char* name) {
    const char* text = std::getenv(name);
    if (!text || !*text) return 0;
    std::uint64_t n = 0;
    for (const char* c = text; *c; ++c) {
        if (*c < '0' || *c > '9')
            throw error(fmt::format("nnprobe: {}={} is not a whole number", name, text));
        n = 10 * n + std::uint64_t(*c - '0');
    }
    return n;
}

probe_options glue_options(probe_options o) {
    if (const char* s = std::getenv("NNP_SEED"); s && *s) o.run_seed = seed{environment_count("NNP_SEED")};
    return o;
}

bool check_verdict(const verdict& probe, doctest::assertType::Enum at, const char* file, int line) {
    return doctest::detail::decomp_assert(at, file, line, "probe", doctest::detail::ExpressionDecomposer(at) << probe);
}

verdict sweep_verdict(const sweep_result& r) {
    verdict v = r.failures.empty() ? verdict{} : r.failures.front();
    v.check = r.check;
    v.passed = r.passed();
    v.explanation = fmt::format("{} over seeds {}-{}: {}", r.check, r.seeds.front(), r.seeds.back(),
                                r.summary().substr(r.check.size() + 2));
    if (!v.passed) {
        const char* program = doctest::getContextOptions() ? doctest::getContextOptions()->binary_name.c_str() : "";
        v.explanation += fmt::format("; replay one: {}; seed {}: {}", r.replay(program, verdict_log::get().current_case),
                                     r.failing.front(), r.failures.front().explanation);
    }
    v.measured = r.pass_rate();
    return v;
}

verdict standard_check_on(standard_check c, probe_target<float>* t, const probe_options& o) {
    static constexpr const char* names[] = {"overfits", "gradients_flow", "all_layers_change", "batch_invariance",
                                            "init_sane", "determinism", "cross_sample_independence", "finite",
                                            "gradient_check", "unit_health"};
    if (!t) return not_run(names[static_cast<int>(c)]);
    switch (c) {
        case standard_check::overfits: return overfits_on(*t, o);
        case standard_check::gradients_flow: return gradients_flow_on(*t, o);
        case standard_check::all_layers_change: return all_layers_change_on(*t, o);
        case standard_check::batch_invariance: return batch_invariance_on(*t, o);
        case standard_check::init_sane: return init_sane_on(*t, o);
        case standard_check::determinism: return determinism_on(*t, o);
        case standard_check::cross_sample_independence: return cross_sample_independence_on(*t, o);
        case standard_check::finite: return finite_on(*t, o);
        case standard_check::gradient_check: return gradient_check_on(*t, o);
        case standard_check::unit_health: return unit_health_on(*t, o);
    }
    throw error("nnprobe: internal error: no such standard check");
}

verdict glue_run(function_ref<std::vector<verdict>(const probe_options&)> one, const probe_options& o) {
    const std::uint64_t n = environment_count("NNP_SEEDS");
    if (n == 0) return one(o).front();
    return sweep_verdict(sweep(one, n, o).front());
}

}  // namespace nnp::detail

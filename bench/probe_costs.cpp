// What the probes cost and how often they cry wolf: the recording overhead of a mini-run
// step (recorded against plain, interleaved, median of runs), the false alarms of the
// suite over many seeds on the two healthy models of the bug-injection tests, and the
// false-alarm table of the legitimate configurations (tests/legitimate_pipelines.hpp) with
// the healthy band of the measures behind two thresholds (the largest sustained update
// ratio, the loss at initialisation over its expected value).
// Prints one JSON line per figure; `--smoke` runs a few seeds and fails on any false alarm;
// `--overhead` prints only the recording overhead; `--matrix N` prints only the legitimate-configuration table, over N seeds; `--healthy N`
// only the table of every check of the suite over five healthy pipelines (the Iris MLP, a
// tanh MLP, a one-logit binary head, a regression MLP, batch norm with dropout) and N seeds.
#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <nnprobe/probes.hpp>

#include "../tests/legitimate_pipelines.hpp"

using namespace nnp;

namespace {
constexpr auto iris_mlp = input<4> | dense<16> | relu | dense<3>;
constexpr auto digits_residual = input<64> | dense<64> | relu | named<"trunk"> | dense<64> | relu |
                                 dense<64> | add<"trunk"> | relu | dense<10>;

template <class P, class D>
void overhead(const char* name, const P& p, const D& sub, int reps) {
    using clock = std::chrono::steady_clock;
    std::vector<double> plain, recorded;
    for (int r = 0; r < reps; ++r)
        for (int rec = 0; rec < 2; ++rec) {
            const auto t0 = clock::now();
            for (int k = 0; k < 20; ++k)
                mini_run(p, sub, run_options{.run_seed = seed{1}, .steps = 50, .record = rec == 1, .snapshot_steps = {}});
            const double us = std::chrono::duration<double, std::micro>(clock::now() - t0).count() / 1000;
            (rec ? recorded : plain).push_back(us);
        }
    std::sort(plain.begin(), plain.end());
    std::sort(recorded.begin(), recorded.end());
    const double a = plain[plain.size() / 2], b = recorded[recorded.size() / 2];
    std::printf("{\"figure\": \"recording_overhead\", \"model\": \"%s\", \"plain_step_us\": %.3f, "
                "\"recorded_step_us\": %.3f, \"overhead_percent\": %.1f}\n",
                name, a, b, 100 * (b / a - 1));
}

template <class P, class D>
int false_alarms(const char* name, const P& p, const D& data, int seeds) {
    int alarms = 0, verdicts = 0;
    for (int s = 1; s <= seeds; ++s)
        for (const auto& v : probe_suite(p, data, probe_options{.run_seed = seed{std::uint64_t(s)}}))
            if (++verdicts; !v.passed) {
                ++alarms;
                std::fprintf(stderr, "%s seed %d: %s\n", name, s, v.explanation.c_str());
            }
    std::printf("{\"figure\": \"false_alarms\", \"model\": \"%s\", \"seeds\": %d, \"verdicts\": %d, "
                "\"false_alarms\": %d}\n",
                name, seeds, verdicts, alarms);
    return alarms;
}

// The false alarms of every check of the suite on five healthy pipelines over `seeds`
// seeds, as a text table (rows: pipelines, columns: the suite's checks, cells: alarms) and one
// JSON line per pipeline. Returns the alarms.
int healthy_table(const dataset<features<4>, classes<3>>& iris, const legit::data_sets& d, int seeds) {
    std::vector<std::string> checks;
    std::vector<std::pair<std::string, std::vector<int>>> rows;
    auto row = [&](const char* name, const auto& pipe, const auto& data) {
        std::vector<int> alarms;
        for (int s = 1; s <= seeds; ++s) {
            const auto vs = probe_suite(pipe, data, probe_options{.run_seed = seed{std::uint64_t(s)}});
            if (checks.empty())
                for (const auto& v : vs) checks.push_back(v.check);
            alarms.resize(vs.size());
            for (std::size_t k = 0; k < vs.size(); ++k)
                if (!vs[k].passed) {
                    ++alarms[k];
                    std::fprintf(stderr, "%s seed %d: %s\n", name, s, vs[k].explanation.c_str());
                }
        }
        std::string json = fmt::format("{{\"figure\": \"healthy_false_alarms\", \"pipeline\": \"{}\", \"seeds\": {}", name, seeds);
        for (std::size_t k = 0; k < alarms.size(); ++k) json += fmt::format(", \"{}\": {}", checks[k], alarms[k]);
        std::printf("%s}\n", json.c_str());
        std::fflush(stdout);
        rows.emplace_back(name, alarms);
    };
    const auto adam_at = adam{.lr = 1e-2};
    row("Iris MLP 4-16-3 relu", pipeline(data<features<4>, classes<3>>, iris_mlp, softmax_cross_entropy, adam_at)
                                    .transform(standardised), iris);
    row("tanh MLP 4-16-3", pipeline(data<features<4>, classes<3>>, input<4> | dense<16> | tanh_act | dense<3>,
                                    softmax_cross_entropy, adam_at).transform(standardised), iris);
    row("binary one-logit head 4-16-1", pipeline(data<features<4>, classes<2>>, input<4> | dense<16> | relu | dense<1>,
                                                 binary_cross_entropy, adam_at).transform(standardised), d.binary);
    row("regression MLP 4-16-1 mse", pipeline(data<features<4>, targets<1>>, input<4> | dense<16> | relu | dense<1>,
                                              mse, adam_at).transform(standardised), d.regression);
    row("batch norm + dropout 4-16-3", pipeline(data<features<4>, classes<3>>,
                                                input<4> | dense<16> | batch_norm | relu | dropout(0.1) | dense<3>,
                                                softmax_cross_entropy, adam_at).transform(standardised), iris);
    int total = 0;
    std::string head = fmt::format("| false alarms over {} seeds |", seeds), rule = "| --- |";
    for (const auto& c : checks) head += " " + c + " |", rule += " --- |";
    std::printf("%s total |\n%s --- |\n", head.c_str(), rule.c_str());
    for (const auto& [name, alarms] : rows) {
        std::string line = "| " + name + " |";
        int sum = 0;
        for (int a : alarms) line += fmt::format(" {} |", a), sum += a;
        total += sum;
        std::printf("%s %d of %zu |\n", line.c_str(), sum, alarms.size() * std::size_t(seeds));
    }
    std::printf("{\"figure\": \"healthy_false_alarms_total\", \"pipelines\": %zu, \"seeds\": %d, \"verdicts\": %zu, "
                "\"false_alarms\": %d}\n",
                rows.size(), seeds, rows.size() * checks.size() * std::size_t(seeds), total);
    return total;
}

// One line per legitimate configuration: false alarms per check over `seeds` seeds, and the
// largest healthy update ratio and initial-loss factor seen (the measures of two thresholds).
// Returns the false alarms.
int legitimate_table(const legit::data_sets& d, int seeds) {
    int total = 0, verdicts = 0;
    double top_ratio = 0, top_init = 0;
    legit::for_each_config(d, [&](std::size_t, const std::string& name, const auto& pipe, const auto& data) {
        std::vector<int> alarms;  // per check, in the suite's order
        std::vector<std::string> checks;
        double ratio = 0, init = 0;
        for (int s = 1; s <= seeds; ++s) {
            const auto vs = probe_suite(pipe, data, probe_options{.run_seed = seed{std::uint64_t(s)}});
            alarms.resize(vs.size());
            checks.resize(vs.size());
            for (std::size_t k = 0; k < vs.size(); ++k) {
                ++verdicts;
                checks[k] = vs[k].check;
                if (!vs[k].passed) {
                    ++alarms[k], ++total;
                    std::fprintf(stderr, "%s seed %d: %s\n", name.c_str(), s, vs[k].explanation.c_str());
                }
            }
            if (vs[2].passed) ratio = std::max(ratio, vs[2].measured);
            if (vs[4].passed) init = std::max(init, vs[4].measured);
        }
        top_ratio = std::max(top_ratio, ratio);
        top_init = std::max(top_init, init);
        std::string per_check;
        for (std::size_t k = 0; k < checks.size(); ++k) per_check += fmt::format("\"{}\": {}, ", checks[k], alarms[k]);
        std::printf("{\"figure\": \"legitimate_false_alarms\", \"config\": \"%s\", \"seeds\": %d, "
                    "%s\"max_update_ratio\": %.4f, \"max_init_loss_factor\": %.3f}\n",
                    name.c_str(), seeds, per_check.c_str(), ratio, init);
        std::fflush(stdout);
    });
    std::printf("{\"figure\": \"legitimate_false_alarms_total\", \"configs\": 12, \"seeds\": %d, "
                "\"verdicts\": %d, \"false_alarms\": %d, \"max_update_ratio\": %.4f, "
                "\"max_init_loss_factor\": %.3f}\n",
                seeds, verdicts, total, top_ratio, top_init);
    return total;
}
}  // namespace

int main(int argc, char** argv) {
    const bool smoke = argc > 1 && std::strcmp(argv[1], "--smoke") == 0;
    const auto iris = load_csv<features<4>, classes<3>>(NNP_DATA_DIR "/iris.csv");
    const legit::data_sets legit_data = legit::make_data(iris);
    if (argc > 2 && std::strcmp(argv[1], "--matrix") == 0) return legitimate_table(legit_data, std::atoi(argv[2])) == 0 ? 0 : 1;
    if (argc > 2 && std::strcmp(argv[1], "--healthy") == 0) return healthy_table(iris, legit_data, std::atoi(argv[2])) == 0 ? 0 : 1;
    const bool overhead_only = argc > 1 && std::strcmp(argv[1], "--overhead") == 0;
    const auto digits = load_csv<features<64>, classes<10>>(NNP_DATA_DIR "/digits.csv");
    const auto iris_pipe =
        pipeline(data<features<4>, classes<3>>, iris_mlp, softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    const auto digits_pipe = pipeline(data<features<64>, classes<10>>, digits_residual, softmax_cross_entropy,
                                      adam{.lr = 1e-2}).transform(standardised);
    if (!smoke) {
        overhead("iris 4-16-3", iris_pipe, stratified(iris, 8, seed{1}), 9);
        overhead("digits residual 64x4-10", digits_pipe, stratified(digits, 3, seed{1}), 9);
    }
    if (overhead_only) return 0;
    const int seeds = smoke ? 3 : 200;
    const int alarms = false_alarms("iris 4-16-3", iris_pipe, iris, seeds) +
                       false_alarms("digits residual 64x4-10", digits_pipe, digits, seeds) +
                       legitimate_table(legit_data, smoke ? 2 : 50) + healthy_table(iris, legit_data, smoke ? 2 : 50);
    return alarms == 0 ? 0 : 1;
}

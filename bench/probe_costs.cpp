// What the probes cost and how often they cry wolf: the recording overhead of a mini-run
// step (recorded against plain, interleaved, median of runs) and the false alarms of the
// four-check suite over many seeds on the two healthy models of the bug-injection tests.
// Prints one JSON line per figure; `--smoke` runs a few seeds and fails on any false alarm.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include <nnprobe/probes.hpp>

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
    int alarms = 0;
    for (int s = 1; s <= seeds; ++s)
        for (const auto& v : probe_suite(p, data, probe_options{.run_seed = seed{std::uint64_t(s)}}))
            if (!v.passed) {
                ++alarms;
                std::fprintf(stderr, "%s seed %d: %s\n", name, s, v.explanation.c_str());
            }
    std::printf("{\"figure\": \"false_alarms\", \"model\": \"%s\", \"seeds\": %d, \"verdicts\": %d, "
                "\"false_alarms\": %d}\n",
                name, seeds, 4 * seeds, alarms);
    return alarms;
}
}  // namespace

int main(int argc, char** argv) {
    const bool smoke = argc > 1 && std::strcmp(argv[1], "--smoke") == 0;
    const auto iris = load_csv<features<4>, classes<3>>(NNP_DATA_DIR "/iris.csv");
    const auto digits = load_csv<features<64>, classes<10>>(NNP_DATA_DIR "/digits.csv");
    const auto iris_pipe =
        pipeline(data<features<4>, classes<3>>, iris_mlp, softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    const auto digits_pipe = pipeline(data<features<64>, classes<10>>, digits_residual, softmax_cross_entropy,
                                      adam{.lr = 1e-2}).transform(standardised);
    if (!smoke) {
        overhead("iris 4-16-3", iris_pipe, stratified(iris, 8, seed{1}), 9);
        overhead("digits residual 64x4-10", digits_pipe, stratified(digits, 3, seed{1}), 9);
    }
    const int seeds = smoke ? 3 : 200;
    const int alarms = false_alarms("iris 4-16-3", iris_pipe, iris, seeds) +
                       false_alarms("digits residual 64x4-10", digits_pipe, digits, seeds);
    return alarms == 0 ? 0 : 1;
}

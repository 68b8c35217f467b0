// nnprobe-demo, the main job: the standard probe suite on the Iris MLP, healthy and broken.
//
// The broken pipeline tells the story of days lost to a silent bug: its batcher shuffles the
// inputs apart from their labels, and a layer was added but is bypassed by its own forward
// pass. Training "runs"; the loss just does not move. The probes say why, naming the node.
// Exit status 0 when the healthy pipeline passes every check and the broken one fails where
// it should.
#include <cstdio>
#include <string>

#include <nnprobe/probes.hpp>
#include <nnprobe/probes/injected_bugs.hpp>

using namespace nnp;

constexpr auto iris_mlp = input<4> | dense<16> | relu | dense<3>;
constexpr auto iris_mlp_with_bypassed_layer = input<4> | dense<16> | relu | bugs::bypassed_scale{} | dense<3>;

namespace {
void print(const char* title, const report_section& r) {
    std::printf("\n%s\n  %s\n", title, r.description.c_str());
    for (const auto& v : r.verdicts) std::printf("  %s %s\n", v.passed ? "PASS" : "FAIL", v.explanation.c_str());
}
bool failed(const report_section& r, const std::string& check) {
    for (const auto& v : r.verdicts)
        if (v.check == check) return !v.passed;
    return false;
}
}  // namespace

int main(int argc, char** argv) {
    const std::string path = argc > 1 ? argv[1] : NNP_DATA_DIR "/iris.csv";
    const std::string report_path = argc > 2 ? argv[2] : "nnprobe-report.html";
    try {
        const auto iris = load_csv<features<4>, classes<3>>(path);
        const auto healthy = pipeline(data<features<4>, classes<3>>, iris_mlp, softmax_cross_entropy,
                                      adam{.lr = 1e-2}).transform(standardised);
        const auto broken = pipeline(data<features<4>, classes<3>>, iris_mlp_with_bypassed_layer,
                                     softmax_cross_entropy, adam{.lr = 1e-2})
                                .transform(standardised)
                                .batches(bugs::misaligned_batcher{});
        const probe_options o{.run_seed = seed{7}};

        std::printf("nnprobe demo: the standard probe suite on the Iris MLP (%s, %zu samples, seed 7)\n",
                    path.c_str(), iris.size());
        const auto h = report_for("healthy pipeline", healthy, iris, o);
        print("healthy pipeline:", h);
        const auto b = report_for("broken pipeline: labels shuffled apart from their inputs in the batcher, "
                                  "a layer added but bypassed", broken, iris, o);
        print("broken pipeline (labels shuffled apart from their inputs in the batcher; a layer added but bypassed):", b);

        write_html_report(report_path, "nnprobe: Iris MLP, healthy and broken", {h, b});
        std::printf("\nreport: %s\n", report_path.c_str());

        bool healthy_ok = true;
        for (const auto& v : h.verdicts) healthy_ok = healthy_ok && v.passed;
        const bool caught = failed(b, "overfits") && failed(b, "gradients_flow") && failed(b, "all_layers_change");
        std::printf("verdict: the healthy pipeline %s; the broken one %s\n",
                    healthy_ok ? "passes every check" : "FAILS (a false alarm: a bug in nnprobe)",
                    caught ? "fails overfits, gradients_flow and all_layers_change, as it should"
                           : "was NOT caught");
        return healthy_ok && caught ? 0 : 1;
    } catch (const nnp::error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 2;
    }
}

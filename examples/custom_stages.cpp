// Your own pipeline stages, plugged into a pipeline and probed as written: a batcher that
// deals class-balanced mini-batches and a transform that clips outliers. (The
// third kind of stage, output gathering, maps output rows back to samples: `.gathered(g)`
// with g(rows, order), or g(row_sample, order) to see which sample each row holds; the
// default, nnp::in_order, is the identity; nnp::sample_order undoes a batcher that reorders
// the rows of its batches, as length_buckets does on token data.)
#include <algorithm>
#include <cstdio>
#include <nnprobe/probes.hpp>
#include <nnprobe/probes/injected_bugs.hpp>
#include <nnprobe/probes/seed_sweep.hpp>

using namespace nnp;

// A batcher: fill `out` for training step `step`, as a pure function of its arguments.
// Here: `per_class` samples of every class, drawn with the run's seed.
struct balanced_batches {
    std::size_t per_class = 2;
    template <class DS>
    void operator()(const DS& ds, std::size_t step, seed s, batch_of<DS>& out) const {
        constexpr std::size_t classes = DS::labels_type::count, w = DS::features_type::size;
        std::vector<std::vector<std::size_t>> by_class(classes);
        for (std::size_t i = 0; i < ds.size(); ++i) by_class[ds.y[i]].push_back(i);
        rng r = rng(s).fork(step);
        out.resize(classes * per_class);
        std::size_t row = 0;
        for (const auto& rows : by_class)
            for (std::size_t k = 0; k < per_class; ++k, ++row) {
                const std::size_t i = rows[r.below(rows.size())];
                std::copy_n(ds.x.data() + i * w, w, out.x.data() + row * w);
                out.y[row] = ds.y[i];
            }
    }
};

// A transform: change a batch's features in place (here: clip outliers to +-3, after the
// standardisation before it).
struct clip_outliers {
    void operator()(matrix<float>& x) const {
        for (auto& v : x) v = std::clamp(v, -3.0f, 3.0f);
    }
};

constexpr auto iris_mlp = input<4> | dense<16> | relu | dense<3>;

int main() {
    const auto iris = load_csv<features<4>, classes<3>>(NNP_DATA_DIR "/iris.csv");
    const auto pipe = pipeline(data<features<4>, classes<3>>, iris_mlp, softmax_cross_entropy, adam{.lr = 1e-2})
                          .batches(balanced_batches{.per_class = 4})
                          .transform(standardised)
                          .transform(clip_outliers{});
    bool ok = true;
    for (const auto& v : probe_suite(pipe, iris)) {
        std::printf("%s %s\n", v.passed ? "PASS" : "FAIL", v.check.c_str());
        ok = ok && v.passed;
    }
    // Over three seeds: the pass rate and the failing seeds of every check.
    for (const auto& r : suite_sweep(pipe, iris, 3)) std::printf("%s\n", r.summary().c_str());
    // A batcher that takes each batch's labels from the batch before: the failing check names it.
    const auto broken = pipe.batches(bugs::previous_labels{});
    const verdict v = blame_stage([](const auto& p, const auto& d, const auto& o) { return overfits(p, d, o); },
                                  broken, iris);
    std::printf("blamed: %s\n", v.stage.c_str());
    return ok && !v.passed && v.stage == "the batcher `previous_labels`" ? 0 : 1;
}
// Output:
// PASS overfits
// PASS gradients_flow
// PASS all_layers_change
// PASS batch_invariance
// PASS init_sane
// PASS determinism
// PASS cross_sample_independence
// PASS finite
// PASS gradient_check
// PASS unit_health
// overfits: 3 of 3 seeds pass (100%)
// gradients_flow: 3 of 3 seeds pass (100%)
// all_layers_change: 3 of 3 seeds pass (100%)
// batch_invariance: 3 of 3 seeds pass (100%)
// init_sane: 3 of 3 seeds pass (100%)
// determinism: 3 of 3 seeds pass (100%)
// cross_sample_independence: 3 of 3 seeds pass (100%)
// finite: 3 of 3 seeds pass (100%)
// gradient_check: 3 of 3 seeds pass (100%)
// unit_health: 3 of 3 seeds pass (100%)
// blamed: the batcher `previous_labels`

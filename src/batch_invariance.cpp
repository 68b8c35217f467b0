// The batch_invariance check (probes/nnprobe/probes/batch_invariance.hpp), compiled once here
// for float and double rather than once per pipeline.
#include <algorithm>
#include <cmath>
#include <numeric>

#include <nnprobe/probes/batch_invariance.hpp>
#include <nnprobe/probes/recorded_run.hpp>

namespace nnp::detail {

// Row `row` of every node's output (and of the gathered output `out`) against row `sample`
// of the batch run's of `n` samples (`ref`, `ref_out`, each node within `scale[i]` times the
// verdict's threshold); false, with `v` naming the first node that diverges, when one does. A sequence
// node's row holds the positions of its run's length, position-major: the columns of a
// shorter run (a sample alone, unpadded) are the first positions of the batch's.
template <class T>
static bool rows_agree(const std::vector<const matrix<T>*>& outputs, const std::vector<matrix<T>>& ref,
                const std::vector<double>& scale, const matrix<T>& out, const matrix<T>& ref_out, std::size_t row,
                std::size_t sample, const char* how, std::size_t n, const std::vector<node_info>& info, verdict& v) {
    const std::size_t nodes = outputs.size();
    for (std::size_t i = 0; i < nodes; ++i) {
        const auto& out = *outputs[i];
        const std::size_t cols = std::min(out.shape()[1], ref[i].shape()[1]);
        double worst = 0;
        for (std::size_t j = 0; j < cols; ++j) {
            const double d = std::abs(static_cast<double>(out(row, j)) - ref[i](sample, j));
            worst = std::isnan(d) ? INFINITY : std::max(worst, d);
        }
        const double tol = v.threshold * scale[i];
        if (worst <= tol) continue;
        const auto& node = info.at(i);
        v.node = i;
        v.measured = worst;
        v.hint = i == 0 ? "a transform of the pipeline depends on the batch"
                        : "the nodes before it agree: does it use batch statistics in "
                          "evaluation mode, or pad or normalise by the batch?";
        v.explanation = fmt::format(
            "batch_invariance: sample {} differs {} vs in its batch of {}; the first node whose "
            "output diverges is {} (max |diff| = {:.3g}, tolerance {:.3g}); {}",
            sample, how, n, node.label(), worst, tol, v.hint);
        return false;
    }
    // Every node agrees; the pipeline's output gathering must too.
    double worst = 0;
    for (std::size_t j = 0; j < out.shape()[1]; ++j)
        worst = std::max(worst, std::abs(static_cast<double>(out(row, j)) - ref_out(sample, j)));
    if (!(worst <= v.threshold * scale[nodes - 1])) {
        v.measured = worst;
        v.hint = "the pipeline's gather stage returns the outputs in another order than the samples";
        v.explanation = fmt::format(
            "batch_invariance: sample {} differs {} vs in its batch of {}, yet every node agrees: "
            "the pipeline's gathered output differs (max |diff| = {:.3g}, tolerance {:.3g}); {}",
            sample, how, n, worst, v.threshold * scale[nodes - 1], v.hint);
        return false;
    }
    return true;
}


// A passing verdict over `n` samples.
static void batch_agrees(verdict& v, std::size_t n) {
    v.passed = true;
    v.explanation = fmt::format(
        "batch_invariance: all {} samples agree at every node in their batch, alone and shuffled "
        "(tolerance {:.3g} relative)", n, v.threshold);
}

template <class T>
verdict batch_invariance_on(probe_target<T>& target, const probe_options& o) {
    const auto started = warmed_run(target, o);
    any_run<T>& run = *started;
    const std::size_t n = target.subset_size(), nodes = run.nodes().size();

    // Every node's outputs for the whole batch.
    const matrix<T> ref_out = run.infer();  // what the pipeline returns, gathered
    std::vector<matrix<T>> ref;
    std::vector<double> scale;
    for (std::size_t i = 0; i < nodes; ++i) {
        ref.push_back(run.output(i));
        double s = 1;
        for (T v : ref.back()) s = std::max(s, static_cast<double>(std::abs(v)));
        scale.push_back(s);
    }

    verdict v;
    v.check = "batch_invariance";
    v.threshold = invariance_tolerance<T>();
    // Compare row `row` of every node (and of the gathered output `out`) with row `sample` of
    // the batch run; report the first node that diverges. A sequence node's row holds the
    // positions of its run's length, position-major: the columns of a shorter run (a sample
    // alone, unpadded) are the first positions of the batch's.
    std::vector<const matrix<T>*> outputs(nodes);
    auto compare = [&](const matrix<T>& out, std::size_t row, std::size_t sample, const char* how) -> bool {
        for (std::size_t i = 0; i < nodes; ++i) outputs[i] = &run.output(i);
        return rows_agree(outputs, ref, scale, out, ref_out, row, sample, how, n, run.nodes(), v);
    };

    // A sample alone is unpadded on token data; extra padding and causality come after.
    for (std::size_t s = 0; s < n; ++s) {
        const auto& out = run.infer(std::vector<std::size_t>{s});
        if (!compare(out, 0, s, "alone")) return v;
    }
    std::vector<std::size_t> perm(n);
    std::iota(perm.begin(), perm.end(), std::size_t{0});
    rng(o.run_seed).fork(0x5eed).shuffle(perm.begin(), perm.end());
    const auto& out = run.infer(perm);
    for (std::size_t r = 0; r < n; ++r)
        if (!compare(out, r, perm[r], "in a shuffled batch")) return v;

    batch_agrees(v, n);
    if (target.token_data()) {
        std::vector<std::size_t> rows(n);
        std::iota(rows.begin(), rows.end(), std::size_t{0});
        for (int which = 0; which < 2; ++which) {
            verdict sv = target.sequence_check(run, which, rows, o.run_seed);
            if (!sv.passed) {
                sv.check = "batch_invariance";
                sv.explanation = "batch_invariance: " + sv.explanation;
                return sv;
            }
            v.explanation += "; " + sv.explanation;
            v.notes.insert(v.notes.end(), sv.notes.begin(), sv.notes.end());
        }
    }
    return v;
}

template verdict batch_invariance_on(probe_target<float>&, const probe_options&);
template verdict batch_invariance_on(probe_target<double>&, const probe_options&);

}  // namespace nnp::detail

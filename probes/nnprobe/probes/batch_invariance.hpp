#pragma once
// P4 batch_invariance: in evaluation mode a sample's output is the same in its batch, alone,
// and in a shuffled batch, within a tolerance from the scalar type (2^10 ulp, scaled by the
// node's largest output: the matrix products of a batch and of one row may sum in another
// order). On failure it names the sample and the first node where the outputs diverge.
// On token data it also pads the batch further than its longest sample (padding_invariance:
// every node compared over each sample's real positions) and, for a causal model, checks
// that no position sees the tokens after it (causality).
#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/core.h>

#include "causality.hpp"
#include "mini_run.hpp"
#include "options.hpp"
#include "padding_invariance.hpp"
#include "verdict.hpp"

namespace nnp {

template <class T = float, class P>
verdict batch_invariance(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    using G = typename P::graph_type;
    detail::check_targets_fit_loss<typename P::loss_type>(data);
    const auto sub = detail::probe_subset(data, o);
    pipeline_run<T, P> run(p, sub, o.run_seed);
    for (std::size_t k = 0; k < o.invariance_warmup; ++k) run.step(k);  // non-trivial running stats
    auto& m = run.net();
    const std::size_t n = sub.size(), nodes = G::size;

    // Every node's outputs for the whole batch.
    const matrix<T> ref_out = run.infer(detail::inputs_of(sub));  // what the pipeline returns, gathered
    std::vector<matrix<T>> ref;
    std::vector<double> scale;
    for (std::size_t i = 0; i < nodes; ++i) {
        ref.push_back(m.output(i));
        double s = 1;
        for (T v : ref.back()) s = std::max(s, static_cast<double>(std::abs(v)));
        scale.push_back(s);
    }

    verdict v;
    v.check = "batch_invariance";
    v.threshold = detail::invariance_tolerance<T>();
    // Compare row `row` of every node (and of the gathered output `out`) with row `sample` of
    // the batch run; report the first node that diverges. A sequence node's row holds the
    // positions of its run's length, position-major: the columns of a shorter run (a sample
    // alone, unpadded) are the first positions of the batch's.
    auto compare = [&](const matrix<T>& out, std::size_t row, std::size_t sample, const char* how) -> bool {
        for (std::size_t i = 0; i < nodes; ++i) {
            const auto& out = m.output(i);
            const std::size_t cols = std::min(out.shape()[1], ref[i].shape()[1]);
            double worst = 0;
            for (std::size_t j = 0; j < cols; ++j) {
                const double d = std::abs(static_cast<double>(out(row, j)) - ref[i](sample, j));
                worst = std::isnan(d) ? INFINITY : std::max(worst, d);
            }
            const double tol = v.threshold * scale[i];
            if (worst <= tol) continue;
            const auto& info = m.node(i);
            v.node = i;
            v.measured = worst;
            v.hint = i == 0 ? "a transform of the pipeline depends on the batch"
                            : "the nodes before it agree: does it use batch statistics in "
                              "evaluation mode, or pad or normalise by the batch?";
            v.explanation = fmt::format(
                "batch_invariance: sample {} differs {} vs in its batch of {}; the first node whose "
                "output diverges is {} (max |diff| = {:.3g}, tolerance {:.3g}); {}",
                sample, how, n, info.label(), worst, tol, v.hint);
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
    };

    // A sample alone is unpadded on token data; extra padding and causality come after.
    for (std::size_t s = 0; s < n; ++s) {
        const auto& out = run.infer(detail::inputs_of(sub, {s}));
        if (!compare(out, 0, s, "alone")) return v;
    }
    std::vector<std::size_t> perm(n);
    std::iota(perm.begin(), perm.end(), std::size_t{0});
    rng(o.run_seed).fork(0x5eed).shuffle(perm.begin(), perm.end());
    const auto& out = run.infer(detail::inputs_of(sub, perm));
    for (std::size_t r = 0; r < n; ++r)
        if (!compare(out, r, perm[r], "in a shuffled batch")) return v;

    v.passed = true;
    v.explanation = fmt::format(
        "batch_invariance: all {} samples agree at every node in their batch, alone and shuffled "
        "(tolerance {:.3g} relative)", n, v.threshold);
    if constexpr (detail::is_token_dataset<typename P::dataset_type>) {
        std::vector<std::size_t> rows(n);
        std::iota(rows.begin(), rows.end(), std::size_t{0});
        for (int which = 0; which < 2; ++which) {
            verdict sv = which == 0 ? padding_invariance(m, sub, rows) : causality(m, sub, rows, o.run_seed);
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

}  // namespace nnp

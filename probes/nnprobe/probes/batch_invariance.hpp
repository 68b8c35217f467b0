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

namespace detail {
// Row `row` of every node's output (and of the gathered output `out`) against row `sample`
// of the batch run's of `n` samples (`ref`, `ref_out`, each node within `scale[i]` times the
// verdict's threshold); false, with `v` naming the first node that diverges, when one does. A sequence
// node's row holds the positions of its run's length, position-major: the columns of a
// shorter run (a sample alone, unpadded) are the first positions of the batch's.
// (src/batch_invariance.cpp, for float and double.)
template <class T>
bool rows_agree(const std::vector<const matrix<T>*>& outputs, const std::vector<matrix<T>>& ref,
                const std::vector<double>& scale, const matrix<T>& out, const matrix<T>& ref_out, std::size_t row,
                std::size_t sample, const char* how, std::size_t n, const std::vector<node_info>& info, verdict& v);
extern template bool rows_agree(const std::vector<const matrix<float>*>&, const std::vector<matrix<float>>&,
                                const std::vector<double>&, const matrix<float>&, const matrix<float>&, std::size_t,
                                std::size_t, const char*, std::size_t, const std::vector<node_info>&, verdict&);
extern template bool rows_agree(const std::vector<const matrix<double>*>&, const std::vector<matrix<double>>&,
                                const std::vector<double>&, const matrix<double>&, const matrix<double>&, std::size_t,
                                std::size_t, const char*, std::size_t, const std::vector<node_info>&, verdict&);
// A passing verdict over `n` samples.
void batch_agrees(verdict& v, std::size_t n);
}  // namespace detail

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
    std::vector<const matrix<T>*> outputs(nodes);
    auto compare = [&](const matrix<T>& out, std::size_t row, std::size_t sample, const char* how) -> bool {
        for (std::size_t i = 0; i < nodes; ++i) outputs[i] = &m.output(i);
        return detail::rows_agree(outputs, ref, scale, out, ref_out, row, sample, how, n, m.nodes(), v);
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

    detail::batch_agrees(v, n);
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

#pragma once
// P3 all_layers_change: after each optimiser step, every parameter tensor has moved (by more
// than one ulp of its largest weight), and none receives a vanishing share of the update
// (its mean |dW|/|W| below 1/1000 of the median tensor's).
#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "mini_run.hpp"
#include "options.hpp"
#include "verdict.hpp"

namespace nnp {

template <class T = float, class P>
verdict all_layers_change(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    const auto sub = detail::probe_subset(data, o);
    const auto rec = mini_run<T>(p, sub, run_options{o.run_seed, o.change_steps, true, {}});
    const auto tensors = rec.nodes.tensors();

    verdict v;
    v.check = "all_layers_change";
    v.series = rec.loss;
    for (const auto& t : tensors) {
        for (std::size_t k = 0; k < t.delta_max.size(); ++k) {
            const double tol = detail::change_tolerance<T>() * std::max(1.0, t.weight_max[k]);
            if (t.delta_max[k] > tol) continue;
            const auto& n = rec.nodes_info[t.node];
            const bool no_grad = t.grad_max[k] == 0;
            v.node = t.node;
            v.step = k;
            v.measured = t.delta_max[k];
            v.threshold = tol;
            v.hint = !t.trainable ? "the node is declared .frozen(): is that intended?"
                     : no_grad   ? "its gradient is zero too: is the node on the path to the loss?"
                                 : "its gradient is not zero, so the update does not reach it: a "
                                   "learning rate of zero (or next to it) for this node?";
            v.explanation = fmt::format(
                "all_layers_change: {}: unchanged by step {} of {} (max |dW| = {:.3g}, threshold "
                "{:.3g}); {}",
                detail::tensor_label(n, t.tensor), k, t.delta_max.size(), t.delta_max[k], tol, v.hint);
            return v;
        }
    }
    // Share of the update: each tensor's mean relative update against the median tensor's.
    std::vector<double> ratio;
    for (const auto& t : tensors) {
        double s = 0;
        std::size_t n = 0;
        for (std::size_t k = 0; k < t.update_ratio.size(); ++k)
            if (t.weight_norm[k] > 0) s += t.update_ratio[k], ++n;
        ratio.push_back(n ? s / static_cast<double>(n) : -1);  // -1: weights were all zero
    }
    std::vector<double> known;
    for (double r : ratio)
        if (r >= 0) known.push_back(r);
    if (!known.empty()) {
        std::nth_element(known.begin(), known.begin() + known.size() / 2, known.end());
        const double median = known[known.size() / 2];
        for (std::size_t i = 0; i < tensors.size(); ++i) {
            if (ratio[i] < 0 || ratio[i] >= 1e-3 * median) continue;
            const auto& n = rec.nodes_info[tensors[i].node];
            v.node = tensors[i].node;
            v.measured = ratio[i];
            v.threshold = 1e-3 * median;
            v.hint = "a per-node learning rate far too small, or a gradient scaled away before it";
            v.explanation = fmt::format(
                "all_layers_change: {}: receives a vanishing share of the update (mean |dW|/|W| = "
                "{:.3g}, the median tensor's is {:.3g}, threshold {:.3g}); {}",
                detail::tensor_label(n, tensors[i].tensor), ratio[i], median, v.threshold, v.hint);
            return v;
        }
    }
    v.passed = true;
    v.explanation = fmt::format("all_layers_change: all {} parameter tensors moved at each of {} steps",
                                tensors.size(), o.change_steps);
    return v;
}

}  // namespace nnp

#pragma once
// P2 gradients_flow: every trainable tensor gets a non-zero gradient at every step, and the
// loss decreases as a trend (least-squares slope below zero and the last third of the steps
// lower on average than the first third), not just between two noisy steps.
#include <cmath>
#include <limits>

#include <fmt/core.h>

#include "mini_run.hpp"
#include "options.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
inline double slope(const std::vector<double>& y) {
    const double n = static_cast<double>(y.size());
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
        const double x = static_cast<double>(i);
        sx += x; sy += y[i]; sxx += x * x; sxy += x * y[i];
    }
    const double d = n * sxx - sx * sx;
    return d == 0 ? 0 : (n * sxy - sx * sy) / d;
}
inline double mean(const std::vector<double>& y, std::size_t from, std::size_t to) {
    double s = 0;
    for (std::size_t i = from; i < to; ++i) s += y[i];
    return s / static_cast<double>(to - from);
}
}  // namespace detail

template <class T = float, class P>
verdict gradients_flow(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    const auto sub = detail::probe_subset(data, o);
    run_options ro{o.run_seed, std::max<std::size_t>(o.steps, 3), true, {}};
    const auto rec = mini_run<T>(p, sub, ro);

    verdict v;
    v.check = "gradients_flow";
    v.series = rec.loss;
    v.threshold = std::numeric_limits<T>::min();  // smallest normal: below it, nothing flows
    for (const auto& t : rec.nodes.tensors()) {
        if (!t.trainable) continue;
        for (std::size_t k = 0; k < t.grad_max.size(); ++k) {
            const double g = t.grad_max[k];
            if (g > v.threshold && std::isfinite(g)) continue;
            const auto& n = rec.nodes_info[t.node];
            v.node = t.node;
            v.step = k;
            v.measured = g;
            if (!std::isfinite(g)) {
                v.hint = "a numeric blow-up: a learning rate too large, log(0), or a division by zero";
                v.explanation = fmt::format("gradients_flow: {}: the gradient is not finite at step {} "
                                            "(max |grad| = {}); {}",
                                            detail::tensor_label(n, t.tensor), k, g, v.hint);
                return v;
            }
            v.hint = "is the node on the path to the loss? Its output may be ignored (bypassed), "
                     "its units dead, or the weights after it zero-initialised";
            v.explanation = fmt::format(
                "gradients_flow: {}: gradient is zero at step {} (max |grad| = {:.3g}, threshold "
                "{:.3g}); {}",
                detail::tensor_label(n, t.tensor), k, t.grad_max[k], v.threshold, v.hint);
            return v;
        }
    }
    const auto& L = rec.loss;
    for (std::size_t k = 0; k < L.size(); ++k)
        if (!std::isfinite(L[k])) {
            v.step = k;
            v.measured = L[k];
            v.hint = "a blow-up: learning rate too large, log(0), or a division by zero";
            v.explanation = fmt::format("gradients_flow: the loss is {} at step {}; {}", L[k], k, v.hint);
            return v;
        }
    const std::size_t third = L.size() / 3;
    const double early = detail::mean(L, 0, third), late = detail::mean(L, L.size() - third, L.size());
    const double s = detail::slope(L);
    v.measured = s;
    v.threshold = 0;
    v.passed = s < 0 && late < early;
    if (v.passed) {
        v.explanation = fmt::format(
            "gradients_flow: every trainable tensor has a gradient at each of {} steps, and the "
            "loss falls ({:.4g} -> {:.4g}, slope {:.3g} per step)",
            L.size(), L.front(), L.back(), s);
    } else {
        v.hint = "gradient ascent (a sign error in the optimiser or the loss), a learning rate "
                 "that makes the loss diverge, or labels that change between steps";
        v.explanation = fmt::format(
            "gradients_flow: the loss does not decrease over {} steps (mean {:.4g} in the first "
            "third, {:.4g} in the last; slope {:.3g} per step, must be < 0); {}",
            L.size(), early, late, s, v.hint);
    }
    return v;
}

}  // namespace nnp

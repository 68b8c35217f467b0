#pragma once
// P3 all_layers_change: after each optimiser step, every parameter tensor has moved (by more
// than one ulp of its largest weight); none receives a vanishing share of the update (its
// mean |dW|/|W| below 1/1000 of the median tensor's); and none is updated violently step
// after step (its median |dW|/|W| above detail::max_update_ratio: a learning rate too high,
// which a tiny subset may still memorise through). Tensors the graph shows to be redundant
// (a dense bias feeding batch_norm) are left out, with a note.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include <fmt/core.h>

#include "mini_run.hpp"
#include "options.hpp"
#include "redundant.hpp"
#include "verdict.hpp"
#include "zero_input.hpp"

namespace nnp {

namespace detail {
// The largest sustained update/weight ratio (median over the first steps, per tensor) of a
// healthy run. The usual rule of thumb is about 1e-3 per step over long training; the first
// steps of the probes' fast runs on tiny subsets sit higher, and the two optimiser families
// differ in kind. Adam moves every weight by about its learning rate, so its ratio is the
// learning rate over the weights' scale: at most 0.045 on the legitimate configurations of
// the tests (50 seeds), 0.16 to 5 with a learning rate 100x too high. SGD's ratio follows
// the gradient: up to 0.74 on healthy output layers in the first steps (momentum 0.9 at
// rate 0.1 on mse: the narrowest margin), above 1 where it diverges. Only
// tensors initialised away from zero are judged: a tensor that starts at zero (a bias) has a
// huge ratio on its first steps by construction.
template <class Opt>
constexpr double max_update_ratio() {
    return std::is_same_v<Opt, adam> ? 0.1 : 1.0;
}

inline double median_of(std::vector<double> x) {
    if (x.empty()) return 0;
    std::nth_element(x.begin(), x.begin() + x.size() / 2, x.end());
    return x[x.size() / 2];
}
}  // namespace detail

template <class T = float, class P>
verdict all_layers_change(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    detail::require_positive(o.change_steps, "change_steps", "all_layers_change");
    detail::check_targets_fit_loss<typename P::loss_type>(data);
    const auto sub = detail::probe_subset(data, o);
    const auto rec = mini_run<T>(p, sub, run_options{o.run_seed, o.change_steps, true, {}});
    const auto redundant = redundant_tensors<typename P::graph_type>(rec.nodes_info);
    std::vector<tensor_series> tensors;
    verdict v;
    v.check = "all_layers_change";
    v.series = rec.loss;
    for (auto& t : rec.nodes.tensors()) {
        if (const auto* r = detail::find_redundant(redundant, t.node, t.tensor)) v.notes.push_back(r->note);
        else tensors.push_back(std::move(t));
    }

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
            const auto zero = t.trainable && no_grad ? detail::zero_inputs_at<T>(p, sub, o.run_seed, t.node, k)
                                                     : std::vector<std::size_t>{};
            v.hint = !t.trainable ? "the node is declared .frozen(): is that intended?"
                     : !zero.empty() ? "its gradient is zero too, because " +
                                           detail::zero_input_text(rec.nodes_info, zero, fmt::format("step {}", k)) +
                                           ": " + detail::zero_input_hint
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
    // Tensors initialised at zero (biases) are left out of both: their relative update is
    // huge on the first steps by construction (the whole tensor is the update), so they set
    // the median far above every weight's (a single-sample SGD run failed on that).
    std::vector<double> ratio;
    for (const auto& t : tensors) {
        if (t.weight_norm.empty() || !(t.weight_norm[0] > 0)) {
            ratio.push_back(-1);
            continue;
        }
        double s = 0;
        std::size_t n = 0;
        for (std::size_t k = 0; k < t.update_ratio.size(); ++k)
            if (t.weight_norm[k] > 0) s += t.update_ratio[k], ++n;
        ratio.push_back(n ? s / static_cast<double>(n) : -1);  // -1: not judged
    }
    std::vector<double> known;
    for (double r : ratio)
        if (r >= 0) known.push_back(r);
    if (!known.empty()) {
        const double median = detail::median_of(known);
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
    // Sustained violence: a tensor initialised away from zero, updated by a large fraction
    // of itself at most steps. The largest such ratio is the passing verdict's measure.
    std::size_t worst = tensors.size();
    double sustained = 0;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const auto& t = tensors[i];
        if (!t.trainable || t.weight_norm.empty() || !(t.weight_norm[0] > 0)) continue;
        const double r = detail::median_of(t.update_ratio);
        if (worst == tensors.size() || !(r <= sustained)) worst = i, sustained = r;
    }
    v.measured = sustained;
    v.threshold = detail::max_update_ratio<typename P::optimizer_type>();
    if (worst < tensors.size() && !(sustained <= v.threshold)) {
        const auto& t = tensors[worst];
        const auto& n = rec.nodes_info[t.node];
        v.node = t.node;
        v.hint = "learning rate too high: each step rewrites a large part of the weights";
        v.explanation = fmt::format(
            "all_layers_change: {}: updated by {:.3g} of its size per step (median |dW|/|W| over {} "
            "steps, most {:.3g}; healthy runs stay below {:.3g}); {}",
            detail::tensor_label(n, t.tensor), sustained, t.update_ratio.size(),
            *std::max_element(t.update_ratio.begin(), t.update_ratio.end()), v.threshold, v.hint);
        return v;
    }
    v.passed = true;
    v.explanation = fmt::format("all_layers_change: all {} parameter tensors moved at each of {} steps "
                                "(largest median |dW|/|W| {:.3g}, at most {:.3g})",
                                tensors.size(), o.change_steps, sustained, v.threshold);
    for (const auto& n : v.notes) v.explanation += "; note: " + n + " (left out)";
    return v;
}

}  // namespace nnp

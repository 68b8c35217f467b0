// The all_layers_change check (probes/nnprobe/probes/all_layers_change.hpp), compiled once
// here for float and double rather than once per pipeline.
#include <algorithm>
#include <cmath>

#include <nnprobe/probes/all_layers_change.hpp>
#include <nnprobe/probes/recorded_run.hpp>
#include <nnprobe/probes/zero_input.hpp>

namespace nnp::detail {

static double median_of(std::vector<double> x) {
    if (x.empty()) return 0;
    std::nth_element(x.begin(), x.begin() + x.size() / 2, x.end());
    return x[x.size() / 2];
}

template <class T>
verdict all_layers_change_on(probe_target<T>& target, const probe_options& o) {
    require_positive(o.change_steps, "change_steps", "all_layers_change");
    target.draw_subset();
    const auto rec = [&] {
        const auto run = target.start(o.run_seed);
        return record_run(*run, o.change_steps);
    }();
    const auto redundant = target.redundant(rec.nodes_info);
    std::vector<tensor_series> tensors;
    verdict v;
    v.check = "all_layers_change";
    v.series = rec.loss;
    for (auto& t : rec.nodes.tensors()) {
        if (const auto* r = find_redundant(redundant, t.node, t.tensor)) v.notes.push_back(r->note);
        else tensors.push_back(std::move(t));
    }

    for (const auto& t : tensors) {
        for (std::size_t k = 0; k < t.delta_max.size(); ++k) {
            const double tol = change_tolerance<T>() * std::max(1.0, t.weight_max[k]);
            if (t.delta_max[k] > tol) continue;
            const auto& n = rec.nodes_info[t.node];
            const bool no_grad = t.grad_max[k] == 0;
            v.node = t.node;
            v.step = k;
            v.measured = t.delta_max[k];
            v.threshold = tol;
            const auto zero = t.trainable && no_grad ? zero_inputs_at(target, o.run_seed, t.node, k)
                                                     : std::vector<std::size_t>{};
            v.hint = !t.trainable ? "the node is declared .frozen(): is that intended?"
                     : !zero.empty() ? "its gradient is zero too, because " +
                                           zero_input_text(rec.nodes_info, zero, fmt::format("step {}", k)) +
                                           ": " + zero_input_hint
                     : no_grad   ? "its gradient is zero too: is the node on the path to the loss?"
                                 : "its gradient is not zero, so the update does not reach it: a "
                                   "learning rate of zero (or next to it) for this node?";
            v.explanation = fmt::format(
                "all_layers_change: {}: unchanged by step {} of {} (max |dW| = {:.3g}, threshold "
                "{:.3g}); {}",
                tensor_label(n, t.tensor), k, t.delta_max.size(), t.delta_max[k], tol, v.hint);
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
        const double median = median_of(known);
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
                tensor_label(n, tensors[i].tensor), ratio[i], median, v.threshold, v.hint);
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
        const double r = median_of(t.update_ratio);
        if (worst == tensors.size() || !(r <= sustained)) worst = i, sustained = r;
    }
    v.measured = sustained;
    v.threshold = target.max_update_ratio();
    if (worst < tensors.size() && !(sustained <= v.threshold)) {
        const auto& t = tensors[worst];
        const auto& n = rec.nodes_info[t.node];
        v.node = t.node;
        v.hint = "learning rate too high: each step rewrites a large part of the weights";
        v.explanation = fmt::format(
            "all_layers_change: {}: updated by {:.3g} of its size per step (median |dW|/|W| over {} "
            "steps, most {:.3g}; healthy runs stay below {:.3g}); {}",
            tensor_label(n, t.tensor), sustained, t.update_ratio.size(),
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

template verdict all_layers_change_on(probe_target<float>&, const probe_options&);
template verdict all_layers_change_on(probe_target<double>&, const probe_options&);

}  // namespace nnp::detail

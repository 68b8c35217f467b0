// The gradients_flow check (probes/nnprobe/probes/gradients_flow.hpp), compiled once here for
// float and double rather than once per pipeline.
#include <cmath>
#include <limits>

#include <nnprobe/probes/gradients_flow.hpp>
#include <nnprobe/probes/recorded_run.hpp>
#include <nnprobe/probes/zero_input.hpp>

namespace nnp::detail {
static double slope(const std::vector<double>& y) {
    const double n = static_cast<double>(y.size());
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
        const double x = static_cast<double>(i);
        sx += x; sy += y[i]; sxx += x * x; sxy += x * y[i];
    }
    const double d = n * sxx - sx * sx;
    return d == 0 ? 0 : (n * sxy - sx * sy) / d;
}
static double mean(const std::vector<double>& y, std::size_t from, std::size_t to) {
    double s = 0;
    for (std::size_t i = from; i < to; ++i) s += y[i];
    return s / static_cast<double>(to - from);
}
// "step 7" with full batches, "step 7 (epoch 0)" otherwise.
static std::string step_text(std::size_t k, std::size_t per_epoch) {
    return per_epoch == 1 ? fmt::format("step {}", k) : fmt::format("step {} (epoch {})", k, k / per_epoch);
}

template <class T>
verdict gradients_flow_on(probe_target<T>& target, const probe_options& o) {
    require_positive(o.flow_epochs, "flow_epochs", "gradients_flow");
    target.draw_subset();
    const std::size_t per_epoch = target.steps_per_epoch();
    const std::size_t epochs = std::max<std::size_t>(o.flow_epochs, 3);
    const auto rec = [&] {
        const auto run = target.start(o.run_seed);
        return record_run(*run, epochs * per_epoch);
    }();
    const auto redundant = target.redundant(rec.nodes_info);

    verdict v;
    v.check = "gradients_flow";
    v.series = rec.loss;
    v.threshold = std::numeric_limits<T>::min();  // smallest normal: below it, nothing flows
    for (const auto& t : rec.nodes.tensors()) {
        if (!t.trainable) continue;
        if (const auto* r = find_redundant(redundant, t.node, t.tensor)) {
            v.notes.push_back(r->note);
            continue;
        }
        const auto& n = rec.nodes_info[t.node];
        for (std::size_t k = 0; k < t.grad_max.size(); ++k) {
            const double g = t.grad_max[k];
            if (std::isfinite(g)) continue;
            v.node = t.node;
            v.step = k;
            v.measured = g;
            v.hint = "a numeric blow-up: a learning rate too large, log(0), or a division by zero";
            v.explanation = fmt::format("gradients_flow: {}: the gradient is not finite at {} (max |grad| = {}); {}",
                                        tensor_label(n, t.tensor), step_text(k, per_epoch), g, v.hint);
            return v;
        }
        // A single sample may leave a tensor without a gradient (every unit before it off
        // for that sample); a whole epoch may not.
        for (std::size_t e = 0; e < epochs; ++e) {
            double most = 0;
            for (std::size_t k = e * per_epoch; k < (e + 1) * per_epoch; ++k) most = std::max(most, t.grad_max[k]);
            if (most > v.threshold) continue;
            v.node = t.node;
            v.step = e * per_epoch;
            v.measured = most;
            const auto zero = zero_inputs_at(target, o.run_seed, t.node, e * per_epoch);
            v.hint = !zero.empty() ? zero_input_hint
                                   : "is the node on the path to the loss? Its output may be ignored (bypassed), "
                                     "its units dead, or the weights after it zero-initialised";
            v.explanation = fmt::format(
                "gradients_flow: {}: gradient is zero at {} (max |grad| = {:.3g}, threshold "
                "{:.3g}); {}{}",
                tensor_label(n, t.tensor),
                per_epoch == 1 ? step_text(e, 1) : fmt::format("every step of epoch {}", e), most,
                v.threshold,
                zero.empty() ? std::string()
                             : zero_input_text(rec.nodes_info, zero, step_text(e * per_epoch, per_epoch)) + ": ",
                v.hint);
            return v;
        }
    }
    const auto& L = rec.loss;
    for (std::size_t k = 0; k < L.size(); ++k)
        if (!std::isfinite(L[k]) || target.impossible_loss(L[k])) {
            v.step = k;
            v.measured = L[k];
            v.hint = std::isfinite(L[k]) ? "targets outside the loss's range" 
                                         : "a blow-up: learning rate too large, log(0), or a division by zero";
            v.explanation = fmt::format("gradients_flow: the loss is {} at {}{}; {}", L[k],
                                        step_text(k, per_epoch),
                                        std::isfinite(L[k]) ? fmt::format(", below the least value {} can take",
                                                                          target.loss_name())
                                                            : std::string(),
                                        v.hint);
            return v;
        }
    std::vector<double> points(epochs);  // each epoch's mean training loss
    for (std::size_t e = 0; e < epochs; ++e) points[e] = mean(L, e * per_epoch, (e + 1) * per_epoch);
    const std::size_t third = points.size() / 3;
    const double early = mean(points, 0, third), late = mean(points, points.size() - third, points.size());
    const double s = slope(points);
    v.measured = s;
    v.threshold = 0;
    v.passed = s < 0 && late < early;
    const std::string unit = per_epoch == 1 ? "step" : "epoch";
    if (v.passed) {
        v.explanation = fmt::format(
            "gradients_flow: every trainable tensor has a gradient in each of {} {}s, and the "
            "loss falls ({:.4g} -> {:.4g}, slope {:.3g} per {}{})",
            epochs, unit, points.front(), points.back(), s, unit,
            per_epoch == 1 ? "" : fmt::format("; epoch means of {} steps", per_epoch));
        for (const auto& n : v.notes) v.explanation += "; note: " + n;
    } else {
        v.hint = "gradient ascent (a sign error in the optimiser or the loss), a learning rate "
                 "that makes the loss diverge, or labels that change between steps";
        v.explanation = fmt::format(
            "gradients_flow: the loss does not decrease over {} {}s (mean {:.4g} in the first "
            "third, {:.4g} in the last; slope {:.3g} per {}, must be < 0); {}",
            epochs, unit, early, late, s, unit, v.hint);
    }
    return v;
}

template verdict gradients_flow_on(probe_target<float>&, const probe_options&);
template verdict gradients_flow_on(probe_target<double>&, const probe_options&);

}  // namespace nnp::detail

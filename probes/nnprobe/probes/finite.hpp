#pragma once
// P7 finite: no NaN or Inf in any node's output (forward) or gradient (backward), nor in the
// loss, over the first steps of a recorded mini-run. Any non-finite value fails: there is no
// tolerance to tune. On failure it names where the first one appears: the step, the direction
// and the stage that made it from finite values. Within a step the forward pass comes first,
// and the lowest-numbered node with a non-finite output is the one that made it (its inputs
// come before it and are finite); then the loss; then the backward pass, where gradients flow
// from the output back, so the highest-numbered node with a non-finite gradient received it
// from a consumer whose own gradient is finite: that consumer's backward made it.
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "mini_run.hpp"
#include "options.hpp"
#include "verdict.hpp"

namespace nnp {

template <class T = float, class P>
verdict finite(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    using Loss = typename P::loss_type;
    detail::require_positive(o.finite_steps, "finite_steps", "finite");
    detail::check_targets_fit_loss<Loss>(data);
    const auto sub = detail::probe_subset(data, o);
    // The mini-run, with every gradient scanned at every step.
    pipeline_run<T, P> run(p, sub, o.run_seed);
    run_record<T, typename P::graph_type> rec;
    rec.nodes_info = run.net().nodes();
    rec.nodes.start(run.net(), o.finite_steps);
    rec.nodes.scan_every_step = true;
    for (std::size_t k = 0; k < o.finite_steps; ++k) {
        const double l = run.step(k, &rec.nodes.stats, [&] { rec.nodes.after_backward(run.net(), k, false); });
        rec.nodes.after_update(run.net(), k, l);
        rec.loss.push_back(l);
        ++rec.steps;
    }
    const auto activity = rec.nodes.activity();
    const auto tensors = rec.nodes.tensors();
    const auto& info = rec.nodes_info;
    const std::size_t last = info.size() - 1;

    verdict v;
    v.check = "finite";
    v.series = rec.loss;
    v.threshold = 0;
    // The earliest step at which anything is non-finite: a node, the loss, a tensor's
    // gradient, or a weight (before the step's update, so the update of the step before).
    std::optional<std::size_t> first;
    auto at = [&](std::size_t k) {
        if (!first || k < *first) first = k;
    };
    for (const auto* a : activity)
        if (a->first_nonfinite_step) at(*a->first_nonfinite_step);
    for (std::size_t k = 0; k < rec.loss.size(); ++k)
        if (!std::isfinite(rec.loss[k])) at(k);
    for (const auto& t : tensors)
        for (std::size_t k = 0; k < t.grad_norm.size(); ++k)
            if (!std::isfinite(t.grad_norm[k]) || !std::isfinite(t.weight_norm[k])) at(k);

    if (!first) {
        v.passed = true;
        v.explanation = fmt::format("finite: every node's outputs and gradients and the loss are finite in "
                                    "each of {} steps ({} nodes)", rec.steps, info.size());
        return v;
    }
    const std::size_t s = *first;
    v.step = s;
    auto total = [&](std::size_t i, bool outputs) {
        return outputs ? activity[i]->nonfinite_outputs : activity[i]->nonfinite_gradients;
    };
    // Forward: the first node whose output is non-finite at step s.
    for (std::size_t i = 0; i < info.size(); ++i) {
        if (activity[i]->first_nonfinite_output_step != s) continue;
        v.node = i;
        v.measured = static_cast<double>(total(i, true));
        bool weights = false;  // a weight of the node already non-finite: the update before did it
        for (const auto& t : tensors)
            if (t.node == i && s < t.weight_norm.size() && !std::isfinite(t.weight_norm[s])) weights = true;
        if (i == 0)
            v.hint = "the batch is not finite once transformed: NaN or Inf in the data, or a transform "
                     "that makes them (a division by a zero spread, log of zero)";
        else if (weights)
            v.hint = fmt::format("its weights are not finite: the optimiser's update at step {} made them "
                                 "(a learning rate far too large, or a division by zero in the optimiser)",
                                 s ? s - 1 : 0);
        else
            v.hint = "its inputs are finite: a division by zero, log or sqrt of zero or of a negative "
                     "number, or an overflow in this node's forward?";
        v.explanation = fmt::format(
            "finite: the first NaN or Inf appears at step {} in the forward pass, in the output of {}{} "
            "({} non-finite values over {} steps); {}",
            s, i == 0 ? "node 0 (the batch after the transforms)" : info[i].label(),
            i == 0 ? "" : ", whose inputs are finite", v.measured, rec.steps, v.hint);
        return v;
    }
    // The loss, from finite outputs.
    if (!std::isfinite(rec.loss[s])) {
        v.node = last;
        v.measured = rec.loss[s];
        v.hint = "log of zero or a division by zero in the loss (a probability that reaches 0 or 1 "
                 "without clamping)?";
        v.explanation = fmt::format(
            "finite: the first NaN or Inf appears at step {} in {}: it is {} while every node's output is "
            "finite{}; {}",
            s, detail::loss_name<Loss>(), std::isnan(rec.loss[s]) ? std::string("NaN") : fmt::format("{}", rec.loss[s]),
            activity[last]->first_nonfinite_gradient_step == s
                ? fmt::format(", and its gradient with respect to {} (the output) holds non-finite values "
                              "(backward)", info[last].label())
                : std::string(),
            v.hint);
        return v;
    }
    // Backward: the last node whose gradient is non-finite got it from a consumer.
    for (std::size_t i = info.size(); i-- > 0;) {
        if (activity[i]->first_nonfinite_gradient_step != s) continue;
        v.node = i;
        v.measured = static_cast<double>(total(i, false));
        if (i == last) {
            v.hint = "the loss's gradient is wrong where its value is fine: a division by zero in it?";
            v.explanation = fmt::format(
                "finite: the first NaN or Inf appears at step {} in the backward pass: the loss ({}) is finite "
                "but its gradient with respect to {} (the output) is not ({} non-finite values over {} "
                "steps); {}",
                s, rec.loss[s], info[last].label(), v.measured, rec.steps, v.hint);
            return v;
        }
        std::string from;
        for (const auto& c : info)
            for (std::size_t in : c.inputs)
                if (in == i) from += (from.empty() ? "" : " or ") + c.label();
        v.hint = "a division by zero, or the derivative of log or sqrt at zero, in that backward?";
        v.explanation = fmt::format(
            "finite: the first NaN or Inf appears at step {} in the backward pass, in the gradient of {} "
            "({} non-finite values over {} steps): the backward of {}, whose own gradient is finite, made "
            "it; {}",
            s, info[i].label(), v.measured, rec.steps, from, v.hint);
        return v;
    }
    // A parameter gradient (a backward whose input gradient is not kept) or a weight.
    for (const auto& t : tensors) {
        if (s >= t.grad_norm.size()) continue;
        const bool grad = !std::isfinite(t.grad_norm[s]), weight = !std::isfinite(t.weight_norm[s]);
        if (!grad && !weight) continue;
        v.node = t.node;
        v.measured = grad ? t.grad_norm[s] : t.weight_norm[s];
        v.hint = grad ? "its backward makes it from a finite gradient: a division by zero in it?"
                      : "the optimiser's update made it (a learning rate far too large, or a division by zero)";
        v.explanation = fmt::format("finite: the first NaN or Inf appears at step {} in the {} of {} (backward); {}", s,
                                    grad ? "gradient" : "weights", detail::tensor_label(info[t.node], t.tensor), v.hint);
        return v;
    }
    v.explanation = fmt::format("finite: a NaN or Inf appears at step {}", s);
    return v;
}

}  // namespace nnp

// The finite check (probes/nnprobe/probes/finite.hpp), compiled once here for float and double
// rather than once per pipeline.
#include <cmath>
#include <optional>

#include <nnprobe/probes/finite.hpp>
#include <nnprobe/probes/recorded_run.hpp>

namespace nnp::detail {

template <class T>
verdict finite_on(probe_target<T>& target, const probe_options& o) {
    require_positive(o.finite_steps, "finite_steps", "finite");
    target.draw_subset();
    // The mini-run, with every gradient scanned at every step.
    const auto rec = [&] {
        const auto run = target.start(o.run_seed);
        return record_run(*run, o.finite_steps, {}, true);
    }();
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
            s, target.loss_name(), std::isnan(rec.loss[s]) ? std::string("NaN") : fmt::format("{}", rec.loss[s]),
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
                                    grad ? "gradient" : "weights", tensor_label(info[t.node], t.tensor), v.hint);
        return v;
    }
    v.explanation = fmt::format("finite: a NaN or Inf appears at step {}", s);
    return v;
}

template verdict finite_on(probe_target<float>&, const probe_options&);
template verdict finite_on(probe_target<double>&, const probe_options&);

}  // namespace nnp::detail

// The unit_health check's verdict (probes/nnprobe/probes/unit_health.hpp), compiled once here
// rather than once per pipeline.
#include <nnprobe/probes/unit_health.hpp>

namespace nnp::detail {

static std::string unusable_text(unit_kind k, const unusable_units& u) {
    if (k == unit_kind::relu)
        return fmt::format("{} of {} units are dead relu units (never active on any sample)", u.unusable, u.units);
    return fmt::format("{:.0f}% of its activations are saturated {} units ({}; {} of {} units on every sample)",
                       100 * u.share, k == unit_kind::tanh ? "tanh" : "sigmoid",
                       k == unit_kind::tanh ? "|y| > 0.99" : "y within 0.005 of 0 or 1", u.unusable, u.units);
}

verdict unit_health_verdict(const health_measures& h, const std::vector<unit_kind>& kinds) {
    verdict v;
    v.check = "unit_health";
    v.series = h.eval_loss;
    const double initial = h.eval_loss.front();

    // A jump fails when training has not undone it by the end of the window: noisy healthy
    // runs may spike and come back (per-sample SGD on a regression: 2.1x after epoch 1, 0.36x
    // after epoch 5), a rate that throws the weights away does not.
    std::size_t jump_at = 0;
    double jump = 1;
    for (std::size_t e = 1; e < h.eval_loss.size(); ++e) {
        const double r = h.eval_loss[e] / initial;
        if (!std::isfinite(h.eval_loss[e])) {
            jump_at = e, jump = r;
            break;
        }
        if (!jump_at && r > detail::max_loss_jump) jump_at = e;
        jump = std::max(jump, r);
    }
    const double last = h.eval_loss.back() / initial;
    if (jump_at && (!std::isfinite(h.eval_loss[jump_at]) || !(last <= 1))) {
        v.step = jump_at;
        v.measured = jump;
        v.threshold = detail::max_loss_jump;
        v.hint = "learning rate too high: the first steps throw the weights out of the region they started in";
        v.explanation = std::isfinite(h.eval_loss[jump_at])
            ? fmt::format("unit_health: the loss jumped to {:.3g}x its value at initialisation ({:.4g} -> {:.4g}) "
                          "after epoch {} and is still {:.3g}x it after epoch {} (a jump above {:.3g}x must "
                          "not last); {}",
                          h.eval_loss[jump_at] / initial, initial, h.eval_loss[jump_at], jump_at, last,
                          h.eval_loss.size() - 1, v.threshold, v.hint)
            : fmt::format("unit_health: the loss diverged to {} after epoch {} of {} (from {:.4g}); {}",
                          h.eval_loss[jump_at], jump_at, detail::health_epochs, initial, v.hint);
        return v;
    }
    for (const auto* u : {&h.at_init, &h.at_end}) {
        if (u->node == detail::npos || !(u->fraction() > detail::max_unusable_fraction)) continue;
        const bool at_init = u == &h.at_init;
        v.node = u->node;
        v.step = at_init ? 0 : detail::health_epochs;
        v.measured = u->fraction();
        v.threshold = detail::max_unusable_fraction;
        v.hint = kinds[u->node] == detail::unit_kind::relu
                     ? "dying relu: a learning rate too high, or biases or inputs pushed negative; a smaller rate, "
                       "He initialisation, or a leaky relu"
                     : "saturation: pre-activations too large (an init's or the input's scale; standardise the "
                       "input, Glorot initialisation)";
        v.explanation = fmt::format(
            "unit_health: {}: {} {} ({:.0f}%, at most {:.0f}%); {}",
            h.nodes[u->node].label(), detail::unusable_text(kinds[u->node], *u),
            at_init ? "at initialisation" : fmt::format("after {} epochs", detail::health_epochs),
            100 * u->fraction(), 100 * v.threshold, v.hint);
        return v;
    }
    v.measured = h.gradient_ratio;
    if (!(h.gradient_ratio <= detail::max_gradient_ratio && h.gradient_ratio >= 1 / detail::max_gradient_ratio)) {
        const bool vanish = h.gradient_ratio < 1;
        v.node = h.first_node;
        v.step = 0;
        v.threshold = vanish ? 1 / detail::max_gradient_ratio : detail::max_gradient_ratio;
        v.hint = vanish ? "vanishing gradients: saturating activations stacked deep, or weights too small; relu, "
                          "He/Glorot initialisation, normalisation or residual connections"
                        : "exploding gradients: weights too large for the depth; a smaller init, normalisation, "
                          "gradient clipping";
        v.explanation = fmt::format(
            "unit_health: {}: its weight gradient (RMS) is {:.3g}x that of {} at initialisation (band [{:.3g}, "
            "{:.3g}]); {}",
            h.nodes[h.first_node].label(), h.gradient_ratio, h.nodes[h.last_node].label(),
            1 / detail::max_gradient_ratio, detail::max_gradient_ratio, v.hint);
        return v;
    }
    v.passed = true;
    v.explanation = fmt::format(
        "unit_health: over {} epochs the loss rose to at most {:.3g}x its initial value and ended at {:.3g}x "
        "(a jump above {:.3g}x must not last); "
        "no activation node has more than {:.0f}% dead units or saturated activations; first/last weight gradient "
        "ratio {:.3g} (band [{:.3g}, {:.3g}])",
        detail::health_epochs, jump, last, detail::max_loss_jump, 100 * detail::max_unusable_fraction, h.gradient_ratio,
        1 / detail::max_gradient_ratio, detail::max_gradient_ratio);
    return v;
}

}  // namespace nnp::detail

// The unit_health check (probes/nnprobe/probes/unit_health.hpp), compiled once here for float
// and double rather than once per pipeline.
#include <algorithm>
#include <cmath>

#include <nnprobe/probes/unit_health.hpp>
#include <nnprobe/probes/unit_rows.hpp>

namespace nnp::detail {
inline constexpr std::size_t health_epochs = 5;
inline constexpr double unusable_derivative = 0.02;  // of the activation's largest derivative
inline constexpr double max_unusable_fraction = 0.5;
inline constexpr double max_gradient_ratio = 1e3;
inline constexpr double max_loss_jump = 2.0;

// Is output y of this kind in the region where the derivative is below unusable_derivative?
inline bool unusable(unit_kind k, double y) {
    switch (k) {
        case unit_kind::relu: return y <= 0;
        case unit_kind::tanh: return 1 - y * y < unusable_derivative;
        case unit_kind::sigmoid: return y * (1 - y) < unusable_derivative * 0.25;
        default: return false;
    }
}

struct unusable_units {
    std::size_t node = npos, units = 0, unusable = 0;  // unusable: units off on every sample
    double share = 0;
    double fraction() const { return share; }
};
// The activation node with the largest share of unusable units in the model's last forward
// (a sequence node's units judged over every real position of every sample).
template <class T>
static unusable_units worst_units(const any_run<T>& m, const std::vector<unit_kind>& kinds,
                                  const std::vector<std::size_t>& widths) {
    unusable_units worst;
    for (std::size_t i = 1; i < kinds.size(); ++i) {
        if (kinds[i] == unit_kind::other) continue;
        const auto out = units_of(m.output(i), widths[i], m.mask());
        const std::size_t units = out.units, rows = out.rows.size();
        unusable_units u{i, units, 0, 0};
        std::size_t saturated = 0;
        for (std::size_t j = 0; j < units; ++j) {
            bool all = true;
            for (std::size_t r = 0; r < rows; ++r) {
                const bool off = unusable(kinds[i], double(out.at(r, j)));
                all = all && off;
                saturated += off;
            }
            u.unusable += all;
        }
        // relu: the share of units never active (an inactive relu entry is normal); tanh and
        // sigmoid: the share of activations saturated.
        u.share = kinds[i] == unit_kind::relu ? double(u.unusable) / double(units)
                                              : double(saturated) / double(units * rows);
        if (worst.node == npos || u.fraction() > worst.fraction()) worst = u;
    }
    return worst;
}

struct health_measures {
    std::vector<double> eval_loss;  // at initialisation, then after each epoch
    unusable_units at_init, at_end;
    double gradient_ratio = 1;      // RMS weight gradient, first parameter node over last
    std::size_t first_node = npos, last_node = npos;
    std::vector<node_info> nodes;
};

template <class T>
static health_measures measure_health(probe_target<T>& target, const probe_options& o) {
    health_measures h;
    const std::vector<unit_kind> kinds = target.unit_kinds();
    const std::vector<std::size_t> widths = target.unit_widths();
    const std::size_t per_epoch = target.steps_per_epoch();
    const auto started = target.start(o.run_seed);
    any_run<T>& run = *started;
    run.refresh_statistics();
    h.eval_loss.push_back(run.evaluate().first);
    h.at_init = worst_units(run, kinds, widths);
    h.nodes = run.nodes();
    std::vector<tensor_update> stats;
    for (std::size_t k = 0; k < health_epochs * per_epoch; ++k) {
        run.step(k, k == 0 ? &stats : nullptr);
        if (k == 0) {
            const auto& params = run.params();
            double first = 0, last = 0;
            for (std::size_t t = 0; t < params.size(); ++t) {
                if (params[t].name != "weight" || !params[t].trainable) continue;
                const double rms = std::sqrt(stats[t].grad_sq / double(params[t].size));
                if (h.first_node == npos) h.first_node = params[t].node, first = rms;
                h.last_node = params[t].node, last = rms;
            }
            h.gradient_ratio = last > 0 ? first / last : (first > 0 ? INFINITY : 1.0);
        }
        if ((k + 1) % per_epoch == 0) {
            run.refresh_statistics();
            h.eval_loss.push_back(run.evaluate().first);
            if (!std::isfinite(h.eval_loss.back())) break;
        }
    }
    run.refresh_statistics();
    run.infer();
    h.at_end = worst_units(run, kinds, widths);
    return h;
}


static std::string unusable_text(unit_kind k, const unusable_units& u) {
    if (k == unit_kind::relu)
        return fmt::format("{} of {} units are dead relu units (never active on any sample)", u.unusable, u.units);
    return fmt::format("{:.0f}% of its activations are saturated {} units ({}; {} of {} units on every sample)",
                       100 * u.share, k == unit_kind::tanh ? "tanh" : "sigmoid",
                       k == unit_kind::tanh ? "|y| > 0.99" : "y within 0.005 of 0 or 1", u.unusable, u.units);
}

// The verdict from the measures, with each node's kind of unit.
static verdict unit_health_verdict(const health_measures& h, const std::vector<unit_kind>& kinds) {
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

template <class T>
verdict unit_health_on(probe_target<T>& target, const probe_options& o) {
    target.draw_subset();
    return unit_health_verdict(measure_health(target, o), target.unit_kinds());
}

template verdict unit_health_on(probe_target<float>&, const probe_options&);
template verdict unit_health_on(probe_target<double>&, const probe_options&);

}  // namespace nnp::detail

// The init_sane check (probes/nnprobe/probes/init_sane.hpp), compiled once here for float and
// double rather than once per pipeline.
#include <cmath>

#include <nnprobe/probes/init_sane.hpp>
#include <nnprobe/probes/unit_rows.hpp>

namespace nnp::detail {
// The largest healthy ratio of the loss at initialisation to its expected value, measured
// over the legitimate configurations of the tests (He/Glorot defaults: at most 3.4 over 50
// seeds); weights 100x too large are far above it (the tests inject them).
inline constexpr double max_init_loss_factor = 5.0;

// The band a parameterised mixing node's (dense, conv) output RMS must keep around its
// input's at initialisation. The inits aim at gain sqrt(2) (He, before a relu) or
// sqrt(2 fan_in / (fan_in + fan_out)) <= sqrt(2) (Glorot); measured on the healthy models and
// the legitimate configurations of the tests (20 seeds): 0.2 to 3.0. Weights 100x too large give a gain
// near 140 per layer, 0.01x too small near 0.014: far outside [1/10, 10].
inline constexpr double max_layer_gain = 10.0;

struct layer_gain {
    std::size_t node = npos;
    double gain = 1, in_rms = 0, out_rms = 0;
};
static double rms_of(const auto& m) {
    double s = 0;
    for (auto v : m) s += double(v) * double(v);
    return m.size() ? std::sqrt(s / double(m.size())) : 0.0;
}
// Every parameterised mixing node's output RMS over its (first) input's, in the run's last
// forward pass; nodes whose input is all zeros are left out (no scale to keep).
template <class T>
static std::vector<layer_gain> layer_gains(const any_run<T>& m) {
    std::vector<layer_gain> gains;
    for (std::size_t i = 1; i < m.nodes().size(); ++i) {
        const auto& info = m.nodes()[i];
        if (info.linearity != linearity_class::affine_mixing || !info.has_params || info.inputs.size() != 1)
            continue;
        const double in = rms_of(m.output(info.inputs[0])), out = rms_of(m.output(i));
        if (!(in > 0)) continue;
        gains.push_back({i, out / in, in, out});
    }
    return gains;
}

template <class T>
verdict init_sane_on(probe_target<T>& target, const probe_options& o) {
    target.draw_subset();
    const auto started = target.start(o.run_seed);
    any_run<T>& run = *started;
    const std::size_t samples = target.subset_size();
    const std::vector<std::size_t> widths = target.unit_widths();

    verdict v;
    v.check = "init_sane";
    const double expected = target.expected_initial_loss();
    const std::string expected_what = target.expected_loss_text();
    run.refresh_statistics();
    const double initial = run.evaluate().first;
    v.series.push_back(initial);
    v.measured = initial / expected;
    v.threshold = max_init_loss_factor;
    if (!(v.measured <= v.threshold)) {
        v.step = 0;
        v.hint = "a scale fault: weights initialised at too large a scale (an init's standard deviation too big?)";
        v.explanation = fmt::format(
            "init_sane: the loss at initialisation is {:.4g}, {:.3g}x its expected value {:.4g} ({}; "
            "threshold {:.3g}x); {}",
            initial, v.measured, expected, expected_what, v.threshold, v.hint);
        return v;
    }

    run.infer();
    const auto gains = layer_gains(run);
    // Symmetry: at initialisation (a constant init makes every unit of the layer identical, even
    // when the next layer's random weights will tell them apart a little), then after the
    // warm-up steps (identical units get identical updates).
    auto m_tol = invariance_tolerance<T>();
    auto symmetric = [&](std::size_t steps) {
        for (std::size_t i = 1; i < run.nodes().size(); ++i) {
            const auto& info = run.nodes()[i];
            if (info.linearity != linearity_class::affine_mixing || !info.has_params) continue;
            const auto out = units_of(run.output(i), widths[i], run.mask());  // a sequence node: a row per real position
            const std::size_t units = out.units, n = out.rows.size();
            std::vector<double> scale(units, 0);
            std::vector<bool> varies(units, false);
            for (std::size_t j = 0; j < units; ++j) {
                for (std::size_t r = 0; r < n; ++r) {
                    scale[j] = std::max(scale[j], std::abs(double(out.at(r, j))));
                    varies[j] = varies[j] || out.at(r, j) != out.at(0, j);
                }
            }
            for (std::size_t a = 0; a < units; ++a) {
                if (!varies[a]) continue;
                for (std::size_t b = a + 1; b < units; ++b) {
                    if (!varies[b]) continue;
                    const double limit = m_tol * scale[a];  // relative to the unit's largest output
                    double worst = 0;
                    for (std::size_t r = 0; r < n && worst <= limit; ++r)
                        worst = std::max(worst, std::abs(double(out.at(r, a)) - double(out.at(r, b))));
                    if (worst > limit) continue;
                    v.node = i;
                    v.step = steps;
                    v.measured = worst;
                    v.threshold = limit;
                    std::string scale_too;
                    for (const auto& g : gains)
                        if (g.node == i && !(g.gain <= max_layer_gain && g.gain >= 1 / max_layer_gain))
                            scale_too = fmt::format(" (its scale is off as well: output RMS {:.3g}x its input's at "
                                                    "initialisation, outside [{:.3g}, {:.3g}])",
                                                    g.gain, 1 / max_layer_gain, max_layer_gain);
                    v.hint = (scale_too.empty() ? std::string("a symmetry fault, not a scale one")
                                                : "a symmetry fault" + scale_too) +
                             ": symmetric initialisation (a constant init?): identical units get identical "
                             "updates and never differ; initialise with random weights (He, Glorot)";
                    v.explanation = fmt::format(
                        "init_sane: {}: units {} and {} compute the same function {} (max |diff| over {} {} "
                        "= {:.3g}, tolerance {:.3g}); {}",
                        info.label(), a, b,
                        steps ? fmt::format("after {} training steps", steps) : std::string("at initialisation"), n,
                        n == samples ? "samples" : "positions of the samples", worst, v.threshold, v.hint);
                    return true;
                }
            }
        }
        return false;
    };
    // Symmetry first: identical units are the fault even where their scale is off too.
    if (symmetric(0)) return v;
    // Scale through depth, in the same evaluation pass at initialisation.
    for (const auto& g : gains) {
        if (g.gain <= max_layer_gain && g.gain >= 1 / max_layer_gain) continue;
        const bool big = g.gain > max_layer_gain;
        v.node = g.node;
        v.step = 0;
        v.measured = g.gain;
        v.threshold = big ? max_layer_gain : 1 / max_layer_gain;
        v.hint = std::string(big ? "a scale fault: weights initialised at too large a scale"
                                 : "a scale fault: weights initialised at too small a scale") +
                 " (an init's standard deviation off by orders of magnitude?); He or Glorot keeps the "
                 "scale";
        v.explanation = fmt::format(
            "init_sane: {}: at initialisation its output RMS is {:.3g}x its input's ({:.3g} from {:.3g}; the "
            "band is [{:.3g}, {:.3g}]): the activation scale {} layer by layer; {}",
            run.nodes()[g.node].label(), g.gain, g.out_rms, g.in_rms, 1 / max_layer_gain,
            max_layer_gain, big ? "explodes" : "vanishes", v.hint);
        return v;
    }

    for (std::size_t k = 0; k < o.init_warmup; ++k) run.step(k);
    run.refresh_statistics();
    run.infer();
    if (symmetric(o.init_warmup)) return v;
    v.passed = true;
    v.explanation = fmt::format(
        "init_sane: the loss at initialisation is {:.4g}, {:.3g}x its expected value {:.4g} ({}; at most "
        "{:.3g}x), every mixing layer keeps its input's scale within [{:.3g}, {:.3g}], and no two units of a "
        "layer agree after {} steps",
        initial, v.measured, expected, expected_what, v.threshold, 1 / max_layer_gain,
        max_layer_gain, o.init_warmup);
    return v;
}

template verdict init_sane_on(probe_target<float>&, const probe_options&);
template verdict init_sane_on(probe_target<double>&, const probe_options&);

}  // namespace nnp::detail

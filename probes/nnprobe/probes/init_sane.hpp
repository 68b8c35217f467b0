#pragma once
// P8 init_sane: the initialisation is sane. Two faults a tiny subset can memorise through:
//   - weights at a huge scale: the loss at initialisation, in evaluation mode over the
//     subset, is far above its expected value (ln C for softmax cross-entropy, ln 2 for
//     binary, for mse the targets' mean square plus one: predicting 0 with unit spread);
//   - symmetric units: two units of an affine-mixing layer (dense) still compute the same
//     function after a few training steps, so the layer is as narrow as one unit
//     (constant initialisation). Units constant over the subset are not compared.
#include <cmath>

#include <fmt/core.h>

#include "mini_run.hpp"
#include "options.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
// The largest healthy ratio of the loss at initialisation to its expected value, measured
// over the legitimate configurations of the tests (He/Glorot defaults: at most 3.4 over 50
// seeds); weights 100x too large are far above it (the tests inject them).
inline constexpr double max_init_loss_factor = 5.0;

// The loss a network at initialisation should show on `ds`.
template <class P>
double expected_initial_loss(const typename P::dataset_type& ds) {
    using L = typename P::dataset_type::labels_type;
    if constexpr (is_targets<L> && std::is_same_v<typename P::loss_type, mse_t>) {
        double s = 0;
        for (float y : ds.y) s += double(y) * y;
        return s / static_cast<double>(ds.y.size()) + 1.0;
    } else {
        return chance_loss<P>(ds);
    }
}
}  // namespace detail

template <class T = float, class P>
verdict init_sane(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    using G = typename P::graph_type;
    detail::check_targets_fit_loss<typename P::loss_type>(data);
    const auto sub = detail::probe_subset(data, o);
    pipeline_run<T, P> run(p, sub, o.run_seed);

    verdict v;
    v.check = "init_sane";
    const double expected = detail::expected_initial_loss<P>(sub);
    run.refresh_statistics(sub);
    const double initial = run.evaluate(sub).first;
    v.series.push_back(initial);
    v.measured = initial / expected;
    v.threshold = detail::max_init_loss_factor;
    if (!(v.measured <= v.threshold)) {
        v.step = 0;
        v.hint = "weights initialised at too large a scale (an init's standard deviation too big?)";
        v.explanation = fmt::format(
            "init_sane: the loss at initialisation is {:.4g}, {:.3g}x its expected value {:.4g} ({}; "
            "threshold {:.3g}x); {}",
            initial, v.measured, expected,
            detail::is_targets<typename P::dataset_type::labels_type> ? "the targets' mean square + 1"
            : std::is_same_v<typename P::loss_type, binary_cross_entropy_t> ? "ln 2" : "ln C",
            v.threshold, v.hint);
        return v;
    }

    for (std::size_t k = 0; k < o.init_warmup; ++k) run.step(k);
    run.refresh_statistics(sub);
    run.infer(sub.x);
    auto& m = run.net();
    const double tol = detail::invariance_tolerance<T>();
    const std::size_t n = sub.size();
    for (std::size_t i = 1; i < G::size; ++i) {
        const auto& info = m.node(i);
        if (info.linearity != linearity_class::affine_mixing || !info.has_params) continue;
        const auto& out = m.output(i);
        const std::size_t units = out.shape()[1];
        std::vector<double> scale(units, 0);
        std::vector<bool> varies(units, false);
        for (std::size_t j = 0; j < units; ++j) {
            for (std::size_t r = 0; r < n; ++r) {
                scale[j] = std::max(scale[j], std::abs(double(out(r, j))));
                varies[j] = varies[j] || out(r, j) != out(0, j);
            }
        }
        for (std::size_t a = 0; a < units; ++a) {
            if (!varies[a]) continue;
            for (std::size_t b = a + 1; b < units; ++b) {
                if (!varies[b]) continue;
                const double limit = tol * scale[a];  // relative to the unit's largest output
                double worst = 0;
                for (std::size_t r = 0; r < n && worst <= limit; ++r)
                    worst = std::max(worst, std::abs(double(out(r, a)) - double(out(r, b))));
                if (worst > limit) continue;
                v.node = i;
                v.step = o.init_warmup;
                v.measured = worst;
                v.threshold = limit;
                v.hint = "symmetric initialisation (a constant init?): identical units get identical "
                         "updates and never differ; initialise with random weights (He, Glorot)";
                v.explanation = fmt::format(
                    "init_sane: {}: units {} and {} compute the same function after {} training steps "
                    "(max |diff| over {} samples = {:.3g}, tolerance {:.3g}); {}",
                    info.label(), a, b, o.init_warmup, n, worst, v.threshold, v.hint);
                return v;
            }
        }
    }
    v.passed = true;
    v.explanation = fmt::format(
        "init_sane: the loss at initialisation is {:.4g}, {:.3g}x its expected value (at most {:.3g}x), and "
        "no two units of a layer agree after {} steps",
        initial, v.measured, v.threshold, o.init_warmup);
    return v;
}

}  // namespace nnp

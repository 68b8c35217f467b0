#pragma once
// unit_health: the units of the network stay usable and the first steps do not blow up.
//   - a learning rate that makes the loss jump or diverge: the evaluation loss on the subset
//     (running statistics recomputed) after each of the first detail::health_epochs epochs,
//     against the loss at initialisation: not finite, or above detail::max_loss_jump (2x) of
//     it and still above it after the last epoch. A spike that training undoes is not a
//     failure: per-sample SGD on the legitimate regression spikes to 2.09x on 1 seed of 50 and
//     ends at 0.36x; Adam at ten times the digits residual MLP's rate jumps 2.0x to 5.2x and
//     memorises within 10 steps. A rate too high that the loss survives shows in the
//     sustained update/weight ratio, all_layers_change's bound (it flags that Adam rate on 20
//     of 20 seeds): it is not repeated here.
//   - dead or saturated units: a unit whose local derivative stays below 2% of its maximum on
//     every sample of the subset passes (almost) no gradient: a relu unit never active (its
//     derivative 0), a tanh unit with |y| > 0.99 (1 - y^2 < 0.02), a sigmoid unit with y
//     outside about [0.005, 0.995] (y (1 - y) < 0.02 / 4). Judged per activation node, at
//     initialisation and after the run: a relu node fails when more than half of its units are
//     dead (an inactive relu entry is normal, a unit inactive on every sample is not; healthy
//     runs: at most 18%, the digits CNN's second relu), a tanh or sigmoid node when more than
//     half of its activations are saturated (about 1% under Glorot at initialisation).
//   - vanishing or exploding gradients: the RMS weight gradient of the first parameter node
//     over the last one's, at initialisation, outside [1e-3, 1e3] (healthy: 0.045 to 2.3; six
//     sigmoid layers initialised at N(0, 0.1): 3e-6 to 7e-6).
#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <type_traits>

#include <fmt/core.h>

#include "mini_run.hpp"
#include "options.hpp"
#include "unit_rows.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
inline constexpr std::size_t health_epochs = 5;
inline constexpr double unusable_derivative = 0.02;  // of the activation's largest derivative
inline constexpr double max_unusable_fraction = 0.5;
inline constexpr double max_gradient_ratio = 1e3;
inline constexpr double max_loss_jump = 2.0;

enum class unit_kind { other, relu, tanh, sigmoid };
template <class L>
constexpr unit_kind unit_kind_of() {
    if constexpr (std::is_same_v<L, relu_t>) return unit_kind::relu;
    else if constexpr (std::is_same_v<L, tanh_t>) return unit_kind::tanh;
    else if constexpr (std::is_same_v<L, sigmoid_t>) return unit_kind::sigmoid;
    else return unit_kind::other;
}
template <class G>
constexpr auto unit_kinds() {
    return []<std::size_t... I>(std::index_sequence<I...>) {
        return std::array<unit_kind, G::size>{unit_kind_of<layer_at<G, I>>()...};
    }(std::make_index_sequence<G::size>{});
}
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
template <class G, class M>
unusable_units worst_units(const M& m) {
    constexpr auto kinds = unit_kinds<G>();
    unusable_units worst;
    for (std::size_t i = 1; i < G::size; ++i) {
        if (kinds[i] == unit_kind::other) continue;
        const auto out = units_of(m, i);
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

template <class T, class P>
health_measures measure_health(const P& p, const typename P::dataset_type& sub, const probe_options& o) {
    using G = typename P::graph_type;
    health_measures h;
    const std::size_t per_epoch = steps_per_epoch(p, sub, o.run_seed);
    pipeline_run<T, P> run(p, sub, o.run_seed);
    run.refresh_statistics(sub);
    h.eval_loss.push_back(run.evaluate(sub).first);
    h.at_init = worst_units<G>(run.net());
    h.nodes = run.net().nodes();
    std::vector<tensor_update> stats;
    for (std::size_t k = 0; k < health_epochs * per_epoch; ++k) {
        run.step(k, k == 0 ? &stats : nullptr);
        if (k == 0) {
            const auto& params = run.net().params();
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
            run.refresh_statistics(sub);
            h.eval_loss.push_back(run.evaluate(sub).first);
            if (!std::isfinite(h.eval_loss.back())) break;
        }
    }
    run.refresh_statistics(sub);
    run.infer(detail::inputs_of(sub));
    h.at_end = worst_units<G>(run.net());
    return h;
}

// The verdict from the measures, with each node's kind of unit (src/unit_health.cpp).
verdict unit_health_verdict(const health_measures& h, const std::vector<unit_kind>& kinds);
}  // namespace detail

template <class T = float, class P>
verdict unit_health(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    using G = typename P::graph_type;
    detail::check_targets_fit_loss<typename P::loss_type>(data);
    const auto sub = detail::probe_subset(data, o);
    constexpr auto kinds = detail::unit_kinds<G>();
    return detail::unit_health_verdict(detail::measure_health<T>(p, sub, o),
                                       std::vector<detail::unit_kind>(kinds.begin(), kinds.end()));
}

}  // namespace nnp

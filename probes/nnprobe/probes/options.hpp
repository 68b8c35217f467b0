#pragma once
// Settings shared by the checks, and the thresholds they derive from the types.
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>

#include <fmt/core.h>

#include <nnprobe/pipeline.hpp>

#include "tolerances.hpp"

namespace nnp {

struct probe_options {
    seed run_seed{1};
    // Samples per class of the stratified subset; 0 picks enough for about 24 samples, at
    // least 2 per class.
    std::size_t per_class = 0;
    // Budgets count epochs (passes over the subset) where the batch size matters: with full
    // batches an epoch is one step, with per-sample updates it is one step per sample.
    std::size_t overfit_epochs = 600;  // P1: most epochs to reach the threshold
    std::size_t flow_epochs = 10;      // P2: epochs watched for gradients and the loss trend
    std::size_t change_steps = 5;      // P3: steps after each of which every tensor must move
    std::size_t invariance_warmup = 3; // P4: training steps before comparing (running stats)
    std::size_t init_warmup = 5;       // P8: steps before looking for symmetric units
    std::size_t determinism_steps = 3; // P6: steps of each of the two runs compared bit for bit
    std::size_t finite_steps = 20;     // P7: steps watched for NaN and Inf
};

namespace detail {

// The loss at chance, from the loss and the label type: ln C for softmax cross-entropy,
// ln 2 for binary cross-entropy; for regression it needs the data (the targets' variance).
template <class P>
double chance_loss(const typename P::dataset_type& ds) {
    using L = typename P::dataset_type::labels_type;
    using Loss = typename P::loss_type;
    if constexpr (std::is_same_v<Loss, softmax_cross_entropy_t> && is_classes<L>) {
        return std::log(static_cast<double>(L::count));
    } else if constexpr (std::is_same_v<Loss, binary_cross_entropy_t>) {
        return std::log(2.0);
    } else if constexpr (is_targets<L>) {
        double var = 0;  // MSE of predicting each target's mean
        const std::size_t n = ds.y.shape()[0], k = ds.y.shape()[1];
        for (std::size_t j = 0; j < k; ++j) {
            double m = 0, s = 0;
            for (std::size_t i = 0; i < n; ++i) m += ds.y(i, j);
            m /= static_cast<double>(n);
            for (std::size_t i = 0; i < n; ++i) s += (ds.y(i, j) - m) * (ds.y(i, j) - m);
            var += s / static_cast<double>(n);
        }
        return var / static_cast<double>(k);
    } else {
        return 1.0;
    }
}

// The least loss any prediction can reach: 0, except for binary cross-entropy on soft
// targets (in (0, 1)), whose minimum is the targets' mean entropy.
template <class P>
double loss_floor(const typename P::dataset_type& ds) {
    using L = typename P::dataset_type::labels_type;
    if constexpr (std::is_same_v<typename P::loss_type, binary_cross_entropy_t> && is_targets<L>) {
        double h = 0;
        for (float t : ds.y)
            if (t > 0 && t < 1) h -= t * std::log(double(t)) + (1 - t) * std::log(1 - double(t));
        return h / static_cast<double>(ds.y.size());
    } else {
        return 0.0;
    }
}

// The tiny training set the probes use: stratified for classification (every class, a few
// samples each), the first samples of a seeded shuffle for regression.
template <class DS>
DS probe_subset(const DS& ds, const probe_options& o) {
    if constexpr (DS::is_classification) {
        constexpr std::size_t C = DS::labels_type::count;
        const std::size_t k = o.per_class ? o.per_class : std::max<std::size_t>(2, (24 + C - 1) / C);
        return stratified(ds, k, o.run_seed);
    } else {
        const std::size_t n = o.per_class ? o.per_class : 24;
        if (ds.size() < n)
            throw data_error(fmt::format("nnprobe: the probes need {} samples, the data set has {}",
                                         n, ds.size()));
        return take(shuffled(ds, o.run_seed), n);
    }
}

// A budget of zero would check nothing and pass: refuse it.
inline void require_positive(std::size_t value, const char* option, const char* check) {
    if (value == 0)
        throw error(fmt::format("nnprobe: probe_options.{} is 0: {} would check nothing", option, check));
}

inline std::string tensor_label(const node_info& n, const std::string& tensor) {
    return n.label() + " " + tensor;
}

}  // namespace detail
}  // namespace nnp

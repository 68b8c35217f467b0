#pragma once
// What the built-in losses accept and what they can return. Binary cross-entropy takes
// targets in [0, 1]: anything else compiles, trains, and drives the loss below zero, a value
// no cross-entropy or squared error can take. The probes refuse such data before a run
// (naming the first offending sample) and fail a run whose loss goes negative.
#include <cmath>
#include <optional>
#include <type_traits>

#include <fmt/core.h>

#include <nnprobe/pipeline.hpp>

namespace nnp::detail {

// Targets a loss cannot take: a data_error naming the first offending sample and column.
template <class Loss, class DS>
void check_targets_fit_loss(const DS& ds) {
    if constexpr (std::is_same_v<Loss, binary_cross_entropy_t> && !DS::is_classification) {
        const std::size_t n = ds.y.shape()[0], k = ds.y.shape()[1];
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < k; ++j)
                if (const float t = ds.y(i, j); !(t >= 0.0f && t <= 1.0f))
                    throw data_error(fmt::format(
                        "nnprobe: binary_cross_entropy needs targets in [0, 1]; sample {} (row {} of the "
                        "data set) has target {} in column {}: a regression target? Use mse, or scale "
                        "the targets to [0, 1]",
                        i, i, t, j));
    }
}

// The smallest value the loss can take, when the library knows it: 0 for its cross-entropies
// and the squared error (a negative value means the targets are out of the loss's range).
template <class Loss>
constexpr std::optional<double> loss_lower_bound() {
    if constexpr (std::is_same_v<Loss, softmax_cross_entropy_t> || std::is_same_v<Loss, binary_cross_entropy_t> ||
                  std::is_same_v<Loss, mse_t>)
        return 0.0;
    else return std::nullopt;
}
template <class Loss>
bool impossible_loss(double l) {
    constexpr auto lo = loss_lower_bound<Loss>();
    return lo && l < *lo;
}
template <class Loss>
const char* loss_name() {
    if constexpr (requires { Loss::name; }) return Loss::name;
    else return "the loss";
}

}  // namespace nnp::detail

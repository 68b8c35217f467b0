#pragma once
// Tensors the graph's type shows to be redundant. A dense layer's bias feeding only
// batch_norm has an analytically zero gradient: batch norm subtracts each feature's batch
// mean, so any per-feature shift before it cancels, and the bias moves only by rounding
// noise (which Adam amplifies, SGD does not). The checks that demand a gradient or a move
// leave such a tensor out and say so in a note, naming the fix: a legitimate configuration
// (if a wasteful one) must not fail, nor pass by luck.
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include <nnprobe/model.hpp>

namespace nnp {

struct redundant_tensor {
    std::size_t node;
    std::string tensor;  // "bias"
    std::string note;    // what makes it redundant and what to write instead
};

namespace detail {
template <class L>
inline constexpr std::size_t dense_bias_width = 0;  // 0: not a dense layer with a bias
template <std::size_t N>
inline constexpr std::size_t dense_bias_width<dense_t<N, true>> = N;

template <class G, std::size_t I>
constexpr bool feeds_only_batch_norm() {
    using S = structure<G>;
    constexpr auto is_bn = []<std::size_t... K>(std::index_sequence<K...>) {
        return std::array<bool, G::size>{std::is_same_v<layer_at<G, K>, batch_norm_t>...};
    }(std::make_index_sequence<G::size>{});
    if (S::consumers[I] == 0) return false;
    for (auto e : S::edges)
        if (e.from == I && !is_bn[e.to]) return false;
    return true;
}
}  // namespace detail

// The redundant tensors of graph G, with the note each check prints.
template <class G>
std::vector<redundant_tensor> redundant_tensors(const std::vector<node_info>& nodes) {
    std::vector<redundant_tensor> out;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        ([&] {
             if constexpr (I > 0) {
                 constexpr std::size_t n = detail::dense_bias_width<detail::layer_at<G, I>>;
                 if constexpr (n > 0 && detail::feeds_only_batch_norm<G, I>()) {
                     std::size_t bn = 0;  // the (first) batch_norm it feeds
                     for (auto e : detail::structure<G>::edges)
                         if (e.from == I && !bn) bn = e.to;
                     out.push_back({I, "bias",
                                    fmt::format("{} bias is redundant: batch_norm ({}) removes this bias; use "
                                                "dense_no_bias<{}>",
                                                nodes[I].label(), nodes[bn].label(), n)});
                 }
             }
         }(),
         ...);
    }(std::make_index_sequence<G::size>{});
    return out;
}

namespace detail {
inline const redundant_tensor* find_redundant(const std::vector<redundant_tensor>& r, std::size_t node,
                                              const std::string& tensor) {
    for (const auto& x : r)
        if (x.node == node && x.tensor == tensor) return &x;
    return nullptr;
}
}  // namespace detail

}  // namespace nnp

#pragma once
// Per-sample tensor shapes as compile-time values. The batch size is never part of a
// shape: it is a runtime value. Rank 1 (features) is what the layers use today; rank >= 2
// (channels x height x width) is carried so convolutions can be added without a redesign.
#include <cstddef>

namespace nnp {

template <std::size_t... Dims>
struct shape {
    static_assert(sizeof...(Dims) >= 1, "nnprobe: a shape needs at least one dimension");
    static_assert(((Dims > 0) && ...), "nnprobe: every dimension of a shape must be positive");
    static constexpr std::size_t rank = sizeof...(Dims);
    static constexpr std::size_t size = (Dims * ...);  // elements per sample
    static constexpr std::size_t dims[rank] = {Dims...};
};

// Feature shape of a data set: `features<4>`, `features<1, 8, 8>`.
template <std::size_t... Dims>
using features = shape<Dims...>;

namespace detail {
template <class S>
inline constexpr bool is_shape = false;
template <std::size_t... D>
inline constexpr bool is_shape<shape<D...>> = true;
}  // namespace detail

}  // namespace nnp

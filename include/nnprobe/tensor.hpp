#pragma once
// The one tensor type the engine passes between nodes: a batch of flattened samples,
// rows = samples, columns = the elements of one sample's shape.
#include <cstddef>
#include <xtensor/xtensor.hpp>

namespace nnp {

template <class T>
using matrix = xt::xtensor<T, 2>;

template <class T>
using vector = xt::xtensor<T, 1>;

namespace detail {
// Resize only when the shape differs, so a steady batch size allocates nothing; fresh
// memory is zero-filled (xtensor leaves it uninitialised).
template <class T>
void ensure_shape(matrix<T>& m, std::size_t rows, std::size_t cols) {
    if (m.shape()[0] != rows || m.shape()[1] != cols) {
        m.resize({rows, cols});
        m.fill(T(0));
    }
}
}  // namespace detail

}  // namespace nnp

#pragma once
// The one tensor type the engine passes between nodes: a batch of flattened samples,
// rows = samples, columns = the elements of one sample's shape.
#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>
#include <xtensor/xtensor.hpp>

namespace nnp {

template <class T>
using matrix = xt::xtensor<T, 2>;

template <class T>
using vector = xt::xtensor<T, 1>;

namespace detail {
// Zero-filled buffers (xtensor's from_shape leaves memory uninitialised).
template <class T>
matrix<T> zero_matrix(std::size_t rows, std::size_t cols) {
    matrix<T> m(std::array<std::size_t, 2>{rows, cols});
    m.fill(T(0));
    return m;
}
template <class T>
vector<T> filled_vector(std::size_t n, T value) {
    vector<T> v(std::array<std::size_t, 1>{n});
    v.fill(value);
    return v;
}

// Resize only when the shape differs, so a steady batch size allocates nothing; fresh
// memory is zero-filled (xtensor leaves it uninitialised).
template <class T>
void ensure_shape(matrix<T>& m, std::size_t rows, std::size_t cols) {
    if (m.shape()[0] != rows || m.shape()[1] != cols) {
        m.resize({rows, cols});
        m.fill(T(0));
    }
}

// Elementwise copy and accumulate on same-shaped buffers. xtensor's `a = b` and `a += b`
// go through a temporary (an allocation per call); these do not.
template <class T>
void copy_into(matrix<T>& dst, const matrix<T>& src) {
    std::copy(src.data(), src.data() + src.size(), dst.data());
}
template <class T>
void add_into(matrix<T>& dst, const matrix<T>& src) {
    T* d = dst.data();
    const T* s = src.data();
    for (std::size_t i = 0, n = src.size(); i < n; ++i) d[i] += s[i];
}
template <class T>
void multiply_into(matrix<T>& dst, const matrix<T>& a, const matrix<T>& b) {
    T* d = dst.data();
    const T *pa = a.data(), *pb = b.data();
    for (std::size_t i = 0, n = a.size(); i < n; ++i) d[i] = pa[i] * pb[i];
}

// `x` as a matrix of T: itself when it already is one, else converted into `buffer` (reused,
// so a steady batch size allocates nothing). Labels pass through unchanged.
template <class T, class X>
decltype(auto) as_scalar(const X& x, matrix<T>& buffer) {
    if constexpr (std::is_same_v<X, matrix<T>> || !requires { x.shape(); }) {
        return (x);
    } else {
        ensure_shape(buffer, x.shape()[0], x.shape()[1]);
        std::copy(x.begin(), x.end(), buffer.begin());
        return static_cast<const matrix<T>&>(buffer);
    }
}
}  // namespace detail

}  // namespace nnp

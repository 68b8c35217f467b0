#pragma once
// Matrix products, out of line: src/blas.cpp calls xtensor-blas (OpenBLAS), so no model
// translation unit parses the BLAS wrappers (xtensor-blas costs ~0.4 s per unit).
#include <cstddef>

#include "tensor.hpp"

namespace nnp::detail {

// C (m x n) = op(A) op(B), row-major, op = transpose when ta/tb. Checks no shapes.
void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const float* a,
          const float* b, float* c);
void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const double* a,
          const double* b, double* c);

// c = op(a) op(b) on matrices whose shapes the caller has already set.
template <class T>
void gemm(const matrix<T>& a, const matrix<T>& b, matrix<T>& c, bool ta = false, bool tb = false) {
    const std::size_t k = ta ? a.shape()[0] : a.shape()[1];
    gemm(ta, tb, c.shape()[0], c.shape()[1], k, a.data(), b.data(), c.data());
}

}  // namespace nnp::detail

#pragma once
// Matrix products, out of line: src/blas.cpp calls xtensor-blas (OpenBLAS), so no model
// translation unit parses the BLAS wrappers (xtensor-blas costs ~0.4 s per unit).
#include <cstddef>
#include <string>

#include "tensor.hpp"

namespace nnp::detail {

// The BLAS the products run on: library ("OpenBLAS 0.3.21"), the kernel family in use
// ("SkylakeX"), the one the library picked by itself, the processor's vector extensions
// ("AVX-512"), whether the kernels use them (true when unknown), whether nnprobe switched
// the kernels (the library's pick was too generic) and, when they are too generic and could
// not be switched, the fix (also printed once, to stderr). Settled at the first product.
struct blas_backend {
    std::string library, kernel, detected, processor;
    bool fits = true, switched = false;
    std::string advice;
};
const blas_backend& blas_in_use();

// C (m x n) = op(A) op(B), row-major, op = transpose when ta/tb. Checks no shapes.
void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const float* a,
          const float* b, float* c);
void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const double* a,
          const double* b, double* c);

// The two paths gemm chooses between by size, apart for the tests: the BLAS library's product,
// and nnprobe's own loop for small products, which costs less than a library call there. The
// loop adds each element's terms in order of k, one rounding per multiply and per add, so its
// bits depend neither on the processor nor on the other rows.
void blas_gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const float* a,
               const float* b, float* c);
void blas_gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const double* a,
               const double* b, double* c);
void small_gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const float* a,
                const float* b, float* c);
void small_gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const double* a,
                const double* b, double* c);
bool is_small_product(std::size_t m, std::size_t n, std::size_t k);

// c = op(a) op(b) on matrices whose shapes the caller has already set.
template <class T>
void gemm(const matrix<T>& a, const matrix<T>& b, matrix<T>& c, bool ta = false, bool tb = false) {
    const std::size_t k = ta ? a.shape()[0] : a.shape()[1];
    gemm(ta, tb, c.shape()[0], c.shape()[1], k, a.data(), b.data(), c.data());
}

}  // namespace nnp::detail

// Matrix products through xtensor-blas, compiled once here rather than in every model
// translation unit. The raw buffers are adapted without copies.
#include <nnprobe/blas.hpp>

#include <array>

#include <xtensor-blas/xblas.hpp>
#include <xtensor/xadapt.hpp>

namespace nnp::detail {
namespace {
template <class T>
void product(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const T* a, const T* b, T* c) {
    // Stored shapes: op(A) is m x k, op(B) is k x n.
    const std::array<std::size_t, 2> sa = ta ? std::array{k, m} : std::array{m, k};
    const std::array<std::size_t, 2> sb = tb ? std::array{n, k} : std::array{k, n};
    const auto A = xt::adapt(a, m * k, xt::no_ownership(), sa);
    const auto B = xt::adapt(b, k * n, xt::no_ownership(), sb);
    auto C = xt::adapt(c, m * n, xt::no_ownership(), std::array{m, n});
    xt::blas::gemm(A, B, C, ta, tb);
}
}  // namespace

void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const float* a, const float* b, float* c) {
    product(ta, tb, m, n, k, a, b, c);
}
void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const double* a, const double* b,
          double* c) {
    product(ta, tb, m, n, k, a, b, c);
}
}  // namespace nnp::detail

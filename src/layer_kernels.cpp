// The loops of the dense, activation and softmax layers and of the losses, compiled once here
// at float and double instead of in every model translation unit, for every layer size. The
// elementwise and per-column loops are cloned for AVX-512, AVX2 and the baseline (chosen when
// the library loads): the headers are built for the baseline, SSE2 on x86-64. Each clone does
// the same IEEE operations in the same order, so the bits do not depend on the processor.
#include <algorithm>
#include <cmath>
#include <cstddef>

#include <nnprobe/blas.hpp>
#include <nnprobe/layers/activations.hpp>
#include <nnprobe/layers/dense.hpp>
#include <nnprobe/layers/softmax.hpp>
#include <nnprobe/loss.hpp>

#if defined(__x86_64__) && !defined(__clang__)
#define NNP_WIDE __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NNP_WIDE
#endif

namespace nnp::detail {
namespace {

// y (rows x n) += b, per row.
template <class T>
NNP_WIDE void add_bias(T* __restrict y, const T* __restrict b, std::size_t rows, std::size_t n) {
    for (std::size_t r = 0; r < rows; ++r, y += n)
        for (std::size_t j = 0; j < n; ++j) y[j] += b[j];
}

// out (n) = the sums of d's rows (rows x n), each column added in order of the rows.
template <class T>
NNP_WIDE void column_sums(const T* __restrict d, std::size_t rows, std::size_t n, T* __restrict out) {
    for (std::size_t j = 0; j < n; ++j) out[j] = T(0);
    for (std::size_t r = 0; r < rows; ++r, d += n)
        for (std::size_t j = 0; j < n; ++j) out[j] += d[j];
}

template <class Spec, class T>
NNP_WIDE void forward_loop(const Spec& spec, const T* __restrict x, T* __restrict y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = spec.f(x[i]);
}

template <class Spec, class T>
NNP_WIDE void backward_loop(const Spec& spec, const T* __restrict px, const T* __restrict py,
                            const T* __restrict pd, T* __restrict pdx, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        // Loads first, then the derivative: g++ vectorises this form; with its default
        // -ftrapping-math it keeps `pd[i] * spec.df(px[i], ...)` a branch per element.
        const T x = px[i], y = py[i], d = pd[i];
        if constexpr (requires { spec.grad(x, y, d); }) pdx[i] = spec.grad(x, y, d);
        else pdx[i] = d * spec.df(x, y);
    }
}

// log(sum(exp(z))) over n entries, shifted by the maximum so nothing overflows.
template <class T>
T log_sum_exp(const T* z, std::size_t n) {
    const T m = *std::max_element(z, z + n);
    T sum = 0;
    for (std::size_t j = 0; j < n; ++j) sum += std::exp(z[j] - m);
    return m + std::log(sum);
}

}  // namespace

// ---- dense -----------------------------------------------------------------------------------
template <class T>
void dense_forward(std::size_t rows, std::size_t in, std::size_t out, const T* x, const T* w, const T* b, T* y) {
    gemm(false, false, rows, out, in, x, w, y);
    if (b) add_bias(y, b, rows, out);
}
template <class T>
void dense_backward(std::size_t rows, std::size_t in, std::size_t out, const T* x, const T* w, const T* dy, T* dw,
                    T* db, T* dx) {
    gemm(true, false, in, out, rows, x, dy, dw);
    if (db) column_sums(dy, rows, out, db);
    if (dx) gemm(false, true, rows, in, out, dy, w, dx);
}
template void dense_forward(std::size_t, std::size_t, std::size_t, const float*, const float*, const float*, float*);
template void dense_forward(std::size_t, std::size_t, std::size_t, const double*, const double*, const double*,
                            double*);
template void dense_backward(std::size_t, std::size_t, std::size_t, const float*, const float*, const float*, float*,
                             float*, float*);
template void dense_backward(std::size_t, std::size_t, std::size_t, const double*, const double*, const double*,
                             double*, double*, double*);

// ---- activations -----------------------------------------------------------------------------
template <class Spec, class T>
void activation_forward(const Spec& spec, const T* x, T* y, std::size_t n) {
    forward_loop(spec, x, y, n);
}
template <class Spec, class T>
void activation_backward(const Spec& spec, const T* x, const T* y, const T* dy, T* dx, std::size_t n) {
    backward_loop(spec, x, y, dy, dx, n);
}
#define NNP_ACTIVATION(Spec)                                                                          \
    template void activation_forward(const Spec&, const float*, float*, std::size_t);                 \
    template void activation_forward(const Spec&, const double*, double*, std::size_t);               \
    template void activation_backward(const Spec&, const float*, const float*, const float*, float*, \
                                      std::size_t);                                                   \
    template void activation_backward(const Spec&, const double*, const double*, const double*,      \
                                      double*, std::size_t);
NNP_ACTIVATION(relu_t)
NNP_ACTIVATION(leaky_relu_t)
NNP_ACTIVATION(tanh_t)
NNP_ACTIVATION(sigmoid_t)
NNP_ACTIVATION(gelu_t)
NNP_ACTIVATION(gelu_tanh_t)
#undef NNP_ACTIVATION

// ---- softmax and log_softmax over rows ---------------------------------------------------------
template <bool Log, class T>
void softmax_forward(const T* x, T* y, std::size_t rows, std::size_t n) {
    for (std::size_t r = 0; r < rows; ++r, x += n, y += n) {
        const T lse = log_sum_exp(x, n);
        for (std::size_t j = 0; j < n; ++j) y[j] = Log ? x[j] - lse : std::exp(x[j] - lse);
    }
}
template <bool Log, class T>
void softmax_backward(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t n) {
    for (std::size_t r = 0; r < rows; ++r, y += n, dy += n, dx += n) {
        T s = 0;
        if constexpr (Log) {  // dx = dy - softmax * sum(dy)
            for (std::size_t j = 0; j < n; ++j) s += dy[j];
            for (std::size_t j = 0; j < n; ++j) dx[j] = dy[j] - std::exp(y[j]) * s;
        } else {  // dx = y * (dy - <dy, y>)
            for (std::size_t j = 0; j < n; ++j) s += dy[j] * y[j];
            for (std::size_t j = 0; j < n; ++j) dx[j] = y[j] * (dy[j] - s);
        }
    }
}
template void softmax_forward<false>(const float*, float*, std::size_t, std::size_t);
template void softmax_forward<true>(const float*, float*, std::size_t, std::size_t);
template void softmax_forward<false>(const double*, double*, std::size_t, std::size_t);
template void softmax_forward<true>(const double*, double*, std::size_t, std::size_t);
template void softmax_backward<false>(const float*, const float*, float*, std::size_t, std::size_t);
template void softmax_backward<true>(const float*, const float*, float*, std::size_t, std::size_t);
template void softmax_backward<false>(const double*, const double*, double*, std::size_t, std::size_t);
template void softmax_backward<true>(const double*, const double*, double*, std::size_t, std::size_t);

// ---- losses ----------------------------------------------------------------------------------
template <class T>
double softmax_cross_entropy_sum(const T* logits, const int* y, std::size_t n, std::size_t c, T* grad) {
    double total = 0;
    const T inv_n = T(1) / static_cast<T>(n);
    for (std::size_t r = 0; r < n; ++r) {
        const T* z = logits + r * c;
        T* g = grad + r * c;
        // One exp per logit: softmax = e / sum, kept in the gradient buffer.
        const T m = *std::max_element(z, z + c);
        T sum = 0;
        for (std::size_t j = 0; j < c; ++j) sum += (g[j] = std::exp(z[j] - m));
        total += static_cast<double>(m + std::log(sum) - z[y[r]]);
        const T scale = inv_n / sum;
        for (std::size_t j = 0; j < c; ++j) g[j] *= scale;
        g[y[r]] -= inv_n;
    }
    return total;
}
template <class T>
double binary_cross_entropy_sum(const T* logits, const T* target, std::size_t n, T* grad) {
    const T inv = T(1) / static_cast<T>(n);
    double total = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const T z = logits[i], t = target[i];
        // max(z,0) - z t + log(1 + exp(-|z|)): never overflows, never log(0).
        total += static_cast<double>(std::max(z, T(0)) - z * t + std::log1p(std::exp(-std::abs(z))));
        const T p = z >= T(0) ? T(1) / (T(1) + std::exp(-z)) : std::exp(z) / (T(1) + std::exp(z));
        grad[i] = (p - t) * inv;
    }
    return total;
}
template <class T>
double squared_error_sum(const T* out, const T* target, std::size_t n, T* grad) {
    const T inv = T(1) / static_cast<T>(n);
    double total = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const T d = out[i] - target[i];
        total += static_cast<double>(d * d);
        grad[i] = T(2) * d * inv;
    }
    return total;
}
template double softmax_cross_entropy_sum(const float*, const int*, std::size_t, std::size_t, float*);
template double softmax_cross_entropy_sum(const double*, const int*, std::size_t, std::size_t, double*);
template double binary_cross_entropy_sum(const float*, const float*, std::size_t, float*);
template double binary_cross_entropy_sum(const double*, const double*, std::size_t, double*);
template double squared_error_sum(const float*, const float*, std::size_t, float*);
template double squared_error_sum(const double*, const double*, std::size_t, double*);

}  // namespace nnp::detail

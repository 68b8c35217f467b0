// The loops of the dense, activation and softmax layers and of the losses, compiled once here
// at float and double instead of in every model translation unit, for every layer size. The
// elementwise and per-column loops are cloned for AVX-512, AVX2 and the baseline (chosen when
// the library loads): the headers are built for the baseline, SSE2 on x86-64. Each clone does
// the same IEEE operations in the same order, so the bits do not depend on the processor.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include <nnprobe/blas.hpp>
#include <nnprobe/init.hpp>
#include <nnprobe/layers/activations.hpp>
#include <nnprobe/layers/dense.hpp>
#include <nnprobe/layers/normalisation.hpp>
#include <nnprobe/layers/softmax.hpp>
#include <nnprobe/loss.hpp>

#include "vector_lanes.hpp"
#include "wide_loops.hpp"

namespace nnp::detail {
namespace {

// y (rows x n) += b, per row. A narrow layer (n below 16) is added as flat runs of 16 rows,
// against b repeated 16 times: whole vectors instead of a few lanes per row.
template <class T>
NNP_WIDE void add_bias(T* __restrict y, const T* __restrict b, std::size_t rows, std::size_t n) {
    constexpr std::size_t L = 16;
    std::size_t r = 0;
    if (n < L && rows >= L) {
        T repeated[L * L];
        for (std::size_t k = 0; k < L; ++k)
            for (std::size_t j = 0; j < n; ++j) repeated[k * n + j] = b[j];
        for (; r + L <= rows; r += L, y += L * n)
            for (std::size_t i = 0; i < L * n; ++i) y[i] += repeated[i];
    }
    for (; r < rows; ++r, y += n)
        for (std::size_t j = 0; j < n; ++j) y[j] += b[j];
}

template <class T, std::size_t L>
using lanes = typename lanes_of<T, L>::type;

// out[j0, j0 + w) = the sums of those columns of d (rows x n), added in order of the rows, in
// one vector of L >= w lanes kept in registers (a sum in memory waits on a store per row).
// The lanes past w read the next row's first entries, while those exist, and are dropped.
template <class T, std::size_t L>
inline void column_block(const T* d, std::size_t rows, std::size_t n, std::size_t j0, std::size_t w, T* out) {
    using V = lanes<T, L>;
    V acc = {};
    std::size_t r = 0;
    for (; r < rows && r * n + j0 + L <= rows * n; ++r) {
        V x;
        std::memcpy(&x, d + r * n + j0, sizeof x);
        acc += x;
    }
    T s[L];
    std::memcpy(s, &acc, sizeof s);
    for (; r < rows; ++r)
        for (std::size_t l = 0; l < w; ++l) s[l] += d[r * n + j0 + l];
    for (std::size_t l = 0; l < w; ++l) out[j0 + l] = s[l];
}

// out (n) = the sums of d's rows (rows x n), each column added in order of the rows.
template <class T>
NNP_WIDE void column_sums(const T* __restrict d, std::size_t rows, std::size_t n, T* __restrict out) {
    constexpr std::size_t L = 64 / sizeof(T);
    std::size_t j0 = 0;
    for (; j0 + L <= n; j0 += L) column_block<T, L>(d, rows, n, j0, L, out);
    const std::size_t w = n - j0;
    if (w > L / 2) column_block<T, L>(d, rows, n, j0, w, out);
    else if (w > L / 4) column_block<T, L / 2>(d, rows, n, j0, w, out);
    else if (w > 0) column_block<T, L / 4>(d, rows, n, j0, w, out);
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

// ---- exp and log of float vectors ----------------------------------------------------------
// The float loss runs over 16 rows at a time, so it cannot call the C library's expf and logf
// (one element per call, and the vector versions of libmvec differ between processors). The
// exp is vector_lanes.hpp's; the log below is Cephes's single-precision approximation (about
// 1 ulp), made of IEEE multiplies, adds and integer bit moves only: the same bits in every
// lane, at every vector width, on every x86. Both are always inlined into the clones, so no
// vector crosses a call: g++'s note on how the baseline would pass one (-Wpsabi, also for the
// buffer of vectors below) does not apply.
using floats = lanes<float, 16>;
using ints = lanes<std::int32_t, 16>;
using bits = lanes<std::uint32_t, 16>;
#pragma GCC diagnostic ignored "-Wpsabi"

// 16 floats from p. A plain function, not a lambda over `e`: under -fsanitize=undefined g++ 12
// reached the lambda's capture through a null closure pointer inside the cloned loop below.
__attribute__((always_inline)) inline floats load_floats(const float* p) {
    floats v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// log(x) for normal x > 0 (sums of exponentials, at least 1 here); NaN stays NaN.
template <class floats>
inline __attribute__((always_inline)) floats log_positive(floats x) {
    const bits b = (bits)x;
    ints e = (ints)((b >> 23) & 0xffu) - 126;                 // x = m 2^e, m in [0.5, 1)
    floats m = (floats)((b & 0x007fffffu) | 0x3f000000u);
    const ints small = m < 0.707106781186547524f;            // below sqrt(1/2): 2m and e - 1
    e = small ? e - 1 : e;
    m = small ? m + m - 1.0f : m - 1.0f;
    const floats z = m * m;
    floats y = floats{} + 7.0376836292e-2f;
    y = y * m + -1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m + -1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m + -1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m + -2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    const floats fe = __builtin_convertvector(e, floats);
    y = y + fe * -2.12194440e-4f;
    y = y + z * -0.5f;
    floats r = m + y;
    r = r + fe * 0.693359375f;
    return x == x ? r : x;
}

// softmax cross-entropy of n rows of c logits, 16 rows per pass (the last pass padded with
// zero logits, its extra lanes dropped): per row the operations of the scalar loop below, in
// its order, with the exp and log above. `loss` gets each row's loss; `e` is room for 16 c
// floats (the block's logits, then their exponentials, 16 per class).
NNP_WIDE void softmax_cross_entropy_lanes(const float* logits, const int* y, std::size_t n, std::size_t c,
                                          float* grad, float* loss, float* e) {
    constexpr std::size_t L = 16;
    const float inv_n = 1.0f / static_cast<float>(n);
    for (std::size_t r0 = 0; r0 < n; r0 += L) {
        const std::size_t rows = std::min(L, n - r0);
        for (std::size_t j = 0; j < c; ++j)
            for (std::size_t l = 0; l < L; ++l) e[j * L + l] = l < rows ? logits[(r0 + l) * c + j] : 0.0f;
        floats m = load_floats(e);
        for (std::size_t j = 1; j < c; ++j) {
            const floats z = load_floats(e + j * L);
            m = m < z ? z : m;  // std::max_element's test
        }
        floats sum = {};
        for (std::size_t j = 0; j < c; ++j) {
            const floats ej = exp_float<floats, ints>(load_floats(e + j * L) - m);
            std::memcpy(e + j * L, &ej, sizeof ej);
            sum += ej;
        }
        const floats lse = m + log_positive(sum);
        const floats scale = inv_n / sum;
        for (std::size_t j = 0; j < c; ++j) {
            const floats g = load_floats(e + j * L) * scale;
            for (std::size_t l = 0; l < rows; ++l) grad[(r0 + l) * c + j] = g[l];
        }
        for (std::size_t l = 0; l < rows; ++l) {
            const std::size_t r = r0 + l;
            loss[r] = lse[l] - logits[r * c + y[r]];
            grad[r * c + y[r]] -= inv_n;
        }
    }
}


// ---- layer norm ------------------------------------------------------------------------------
// Each row's mean and variance add its features in order; L rows at a time, transposed into
// `cols` (n vectors of L rows), so that a lane is a row and the sums are whole-vector adds with
// a row's bits. The lanes past the last row add zeros and are dropped.
template <class T, std::size_t L>
inline __attribute__((always_inline)) void rows_to_lanes(const T* __restrict x, std::size_t count, std::size_t n,
                                                         T* __restrict cols) {
    for (std::size_t k = 0; k < count; ++k)
        for (std::size_t j = 0; j < n; ++j) cols[j * L + k] = x[k * n + j];
    for (std::size_t j = 0; j < n; ++j)
        for (std::size_t k = count; k < L; ++k) cols[j * L + k] = T(0);
}

template <class T>
NNP_WIDE void layer_norm_forward_loop(std::size_t rows, std::size_t n, T eps, const T* __restrict x,
                                      const T* __restrict gain, const T* __restrict bias, T* __restrict xhat,
                                      T* __restrict inv_std, T* __restrict y) {
    constexpr std::size_t L = 64 / sizeof(T);
    using V = lanes<T, L>;
    thread_local std::vector<T> cols_;
    if (cols_.size() < n * L) cols_.resize(n * L);
    T* const cols = cols_.data();
    const T d = static_cast<T>(n);
    for (std::size_t r0 = 0; r0 < rows; r0 += L) {
        const std::size_t count = std::min(L, rows - r0);
        rows_to_lanes<T, L>(x + r0 * n, count, n, cols);
        V mean = {}, var = {};
        for (std::size_t j = 0; j < n; ++j) {
            V v;
            std::memcpy(&v, cols + j * L, sizeof v);
            mean += v;
        }
        mean /= d;
        for (std::size_t j = 0; j < n; ++j) {
            V v;
            std::memcpy(&v, cols + j * L, sizeof v);
            const V c = v - mean;
            var += c * c;
        }
        for (std::size_t k = 0; k < count; ++k) {
            const std::size_t r = r0 + k;
            const T m = mean[k], is = inv_std[r] = T(1) / std::sqrt(var[k] / d + eps);
            const T* xr = x + r * n;
            T *hr = xhat + r * n, *yr = y + r * n;
            for (std::size_t j = 0; j < n; ++j) {
                const T h = hr[j] = (xr[j] - m) * is;
                yr[j] = gain[j] * h + bias[j];
            }
        }
    }
}

template <class T>
NNP_WIDE void layer_norm_backward_loop(std::size_t rows, std::size_t n, const T* __restrict dy,
                                       const T* __restrict xhat, const T* __restrict gain,
                                       const T* __restrict inv_std, T* __restrict dgain, T* __restrict dbias,
                                       T* __restrict dx) {
    // The gain's and bias's gradients: per feature, the rows in order.
    std::fill(dgain, dgain + n, T(0));
    std::fill(dbias, dbias + n, T(0));
    for (std::size_t r = 0; r < rows; ++r) {
        const T *dr = dy + r * n, *hr = xhat + r * n;
        for (std::size_t j = 0; j < n; ++j) {
            dgain[j] += dr[j] * hr[j];
            dbias[j] += dr[j];
        }
    }
    if (!dx) return;
    constexpr std::size_t L = 64 / sizeof(T);
    using V = lanes<T, L>;
    thread_local std::vector<T> cols_;
    if (cols_.size() < 2 * n * L) cols_.resize(2 * n * L);
    T *const dcols = cols_.data(), *const hcols = dcols + n * L;
    const T d = static_cast<T>(n);
    for (std::size_t r0 = 0; r0 < rows; r0 += L) {
        const std::size_t count = std::min(L, rows - r0);
        rows_to_lanes<T, L>(dy + r0 * n, count, n, dcols);
        rows_to_lanes<T, L>(xhat + r0 * n, count, n, hcols);
        V s1 = {}, s2 = {};  // sums of dxhat and dxhat * xhat over the features
        for (std::size_t j = 0; j < n; ++j) {
            V dv, hv;
            std::memcpy(&dv, dcols + j * L, sizeof dv);
            std::memcpy(&hv, hcols + j * L, sizeof hv);
            const V g = dv * gain[j];
            s1 += g;
            s2 += g * hv;
        }
        for (std::size_t k = 0; k < count; ++k) {
            const std::size_t r = r0 + k;
            const T c = inv_std[r] / d, a = s1[k], b = s2[k];
            const T *dr = dy + r * n, *hr = xhat + r * n;
            T* out = dx + r * n;
            for (std::size_t j = 0; j < n; ++j) out[j] = c * (d * dr[j] * gain[j] - a - hr[j] * b);
        }
    }
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

// ---- layer norm ------------------------------------------------------------------------------
template <class T>
void layer_norm_forward(std::size_t rows, std::size_t n, T eps, const T* x, const T* gain, const T* bias, T* xhat,
                        T* inv_std, T* y) {
    layer_norm_forward_loop(rows, n, eps, x, gain, bias, xhat, inv_std, y);
}
template <class T>
void layer_norm_backward(std::size_t rows, std::size_t n, const T* dy, const T* xhat, const T* gain,
                         const T* inv_std, T* dgain, T* dbias, T* dx) {
    layer_norm_backward_loop(rows, n, dy, xhat, gain, inv_std, dgain, dbias, dx);
}
template void layer_norm_forward(std::size_t, std::size_t, float, const float*, const float*, const float*, float*,
                                 float*, float*);
template void layer_norm_forward(std::size_t, std::size_t, double, const double*, const double*, const double*,
                                 double*, double*, double*);
template void layer_norm_backward(std::size_t, std::size_t, const float*, const float*, const float*, const float*,
                                  float*, float*, float*);
template void layer_norm_backward(std::size_t, std::size_t, const double*, const double*, const double*,
                                  const double*, double*, double*, double*);

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
    if constexpr (std::is_same_v<T, float>) {
        // Grown once per thread: a steady batch allocates nothing.
        thread_local std::vector<float> loss, e;
        if (loss.size() < n) loss.resize(n);
        if (e.size() < 16 * c) e.resize(16 * c);
        softmax_cross_entropy_lanes(logits, y, n, c, grad, loss.data(), e.data());
        for (std::size_t r = 0; r < n; ++r) total += static_cast<double>(loss[r]);
        return total;
    }
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

// The templates every model needs at float and double, declared extern in their headers.
namespace nnp {
template void detail::initialise(matrix<float>&, init_spec, std::size_t, std::size_t, rng&);
template void detail::initialise(matrix<double>&, init_spec, std::size_t, std::size_t, rng&);
template double accuracy(const matrix<float>&, const std::vector<int>&);
template double accuracy(const matrix<double>&, const std::vector<int>&);
}  // namespace nnp

// The per-head loops of self-attention (include/nnprobe/layers/attention.hpp), out of line so
// that they run on the processor's widest vectors (one clone per instruction set, picked when
// the library loads) whatever flags the user's program is built with.
//
// Same bits as the plain loops: every dot product adds its terms in order of the feature,
// every accumulation over keys or queries in order of the position, one rounding per
// multiply and per add (the project builds with -ffp-contract=off); a vector lane is one
// position or one feature, never a partial sum. Only sample b's real keys are read, so a
// sample's result does not depend on its batch.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <nnprobe/layers/attention_kernels.hpp>

namespace nnp::detail {
namespace {

template <class T>
struct lanes {
    static constexpr std::size_t count = 32 / sizeof(T);
    typedef T type __attribute__((vector_size(32)));
};

// o[e] += sum over t in [first, last) of w[t * wstride] * x[t * ld + e], e < n, the terms added
// to o[e] one at a time in order of t (the sum stays in registers between them).
template <class T>
inline void add_weighted_rows(T* __restrict o, const T* __restrict w, std::size_t wstride, const T* __restrict x,
                              std::size_t ld, std::size_t first, std::size_t last, std::size_t n) {
    using V = typename lanes<T>::type;
    constexpr std::size_t L = lanes<T>::count;
    std::size_t e = 0;
    for (; e + L <= n; e += L) {
        V acc, r;
        std::memcpy(&acc, o + e, sizeof acc);
        for (std::size_t t = first; t < last; ++t) {
            std::memcpy(&r, x + t * ld + e, sizeof r);
            acc += w[t * wstride] * r;
        }
        std::memcpy(o + e, &acc, sizeof acc);
    }
    for (; e < n; ++e) {
        T acc = o[e];
        for (std::size_t t = first; t < last; ++t) acc += w[t * wstride] * x[t * ld + e];
        o[e] = acc;
    }
}

// out[j] = sum_e w[e] * rows[e * stride + j] for j < count (rounded up to whole vectors; rows
// is zero-padded to `stride`, a multiple of the lane count), terms in order of e.
template <class T>
inline void dots(const T* __restrict w, const T* __restrict rows, std::size_t stride, std::size_t dh,
                 std::size_t count, T* __restrict out) {
    using V = typename lanes<T>::type;
    constexpr std::size_t L = lanes<T>::count;
    for (std::size_t j0 = 0; j0 < count; j0 += L) {
        V acc = {};
        for (std::size_t e = 0; e < dh; ++e) {
            V r;
            std::memcpy(&r, rows + e * stride + j0, sizeof r);
            acc += w[e] * r;
        }
        std::memcpy(out + j0, &acc, sizeof acc);
    }
}

// x[j] *= k and x[j] /= k for j < n, in whole vectors (x has room up to the next multiple of
// the lane count).
template <class T>
inline void scale_lanes(T* __restrict x, T k, std::size_t n) {
    using V = typename lanes<T>::type;
    for (std::size_t j = 0; j < n; j += lanes<T>::count) {
        V v;
        std::memcpy(&v, x + j, sizeof v);
        v *= k;
        std::memcpy(x + j, &v, sizeof v);
    }
}
template <class T>
inline void divide_lanes(T* __restrict x, T k, std::size_t n) {
    using V = typename lanes<T>::type;
    for (std::size_t j = 0; j < n; j += lanes<T>::count) {
        V v;
        std::memcpy(&v, x + j, sizeof v);
        v /= k;
        std::memcpy(x + j, &v, sizeof v);
    }
}

// Columns [col, col + dh) of sample b's first `real` positions, transposed into dh rows of
// `stride` (zero beyond `real`).
template <class T>
void transpose_head(const T* base, std::size_t ld, std::size_t col, std::size_t dh, std::size_t real,
                    std::size_t stride, T* out) {
    for (std::size_t e = 0; e < dh; ++e) {
        T* row = out + e * stride;
        for (std::size_t j = 0; j < real; ++j) row[j] = base[j * ld + col + e];
        std::fill(row + real, row + stride, T(0));
    }
}

template <class T>
std::size_t padded(std::size_t n) {
    constexpr std::size_t L = lanes<T>::count;
    return (n + L - 1) / L * L;
}

template <class T>
__attribute__((target_clones("avx512f", "avx2", "default"))) void forward_kernel(const attention_dims& d,
                                                                                   const T* qkv, T* att,
                                                                                   T* heads) {
    const std::size_t D = d.width, H = d.heads, dh = D / H, len = d.len, ld = 3 * D;
    const std::size_t stride = padded<T>(len);
    thread_local std::vector<T> kt, s;
    kt.resize(dh * stride);
    s.resize(stride);
    const T scale = T(1) / std::sqrt(static_cast<T>(dh));
    for (std::size_t b = 0; b < d.rows; ++b) {
        const std::size_t real = d.lengths[b];
        const T* base = qkv + b * len * ld;
        for (std::size_t h = 0; h < H; ++h) {
            transpose_head(base, ld, D + h * dh, dh, real, stride, kt.data());
            T* a = att + (b * H + h) * len * len;
            for (std::size_t i = 0; i < len; ++i, a += len) {
                const std::size_t keys = d.causal ? std::min(real, i + 1) : real;
                T* si = s.data();
                dots(base + i * ld + h * dh, kt.data(), stride, dh, keys, si);
                scale_lanes(si, scale, keys);
                T top = -std::numeric_limits<T>::infinity();
                for (std::size_t j = 0; j < keys; ++j) top = std::max(top, si[j]);
                T sum = 0;
                for (std::size_t j = 0; j < keys; ++j) sum += (si[j] = std::exp(si[j] - top));
                divide_lanes(si, sum, keys);
                std::copy(si, si + keys, a);
                std::fill(a + keys, a + len, T(0));
                T* o = heads + (b * len + i) * D + h * dh;
                std::fill(o, o + dh, T(0));
                add_weighted_rows(o, a, 1, base + 2 * D + h * dh, ld, 0, keys, dh);
            }
        }
    }
}

// Per sample and head: first, query by query, the gradient of the weights' logits (ds) and of
// the queries; then, key by key, of the keys and values, each summed over the queries in order.
template <class T>
__attribute__((target_clones("avx512f", "avx2", "default"))) void backward_kernel(const attention_dims& d,
                                                                                    const T* qkv, const T* att,
                                                                                    const T* dheads, T* dqkv) {
    const std::size_t D = d.width, H = d.heads, dh = D / H, len = d.len, ld = 3 * D;
    const std::size_t stride = padded<T>(len);
    thread_local std::vector<T> vt, da, ds;
    vt.resize(dh * stride);
    da.resize(stride);
    ds.resize(len * len);
    const T scale = T(1) / std::sqrt(static_cast<T>(dh));
    for (std::size_t b = 0; b < d.rows; ++b) {
        const std::size_t real = d.lengths[b];
        const T* base = qkv + b * len * ld;
        const T* dbase_o = dheads + b * len * D;
        T* dbase = dqkv + b * len * ld;
        for (std::size_t h = 0; h < H; ++h) {
            transpose_head(base, ld, 2 * D + h * dh, dh, real, stride, vt.data());
            const T* a = att + (b * H + h) * len * len;
            for (std::size_t i = 0; i < len; ++i) {
                const std::size_t keys = d.causal ? std::min(real, i + 1) : real;
                const T* ai = a + i * len;
                T* dsi = ds.data() + i * len;
                dots(dbase_o + i * D + h * dh, vt.data(), stride, dh, keys, da.data());  // d loss / d a_ij
                T dot = 0;  // sum_j a_ij da_ij
                for (std::size_t j = 0; j < keys; ++j) dot += ai[j] * da[j];
                for (std::size_t j = 0; j < keys; ++j) dsi[j] = ai[j] * (da[j] - dot) * scale;
                add_weighted_rows(dbase + i * ld + h * dh, dsi, 1, base + D + h * dh, ld, 0, keys, dh);
            }
            // Key j is seen by the queries i with j < keys(i): all of them, or i >= j when causal.
            for (std::size_t j = 0; j < real; ++j) {
                const std::size_t first = d.causal ? j : 0;
                add_weighted_rows(dbase + j * ld + 2 * D + h * dh, a + j, len, dbase_o + h * dh, D, first, len, dh);
                add_weighted_rows(dbase + j * ld + D + h * dh, ds.data() + j, len, base + h * dh, ld, first, len,
                                  dh);
            }
        }
    }
}

}  // namespace

void attention_forward(const attention_dims& d, const float* qkv, float* att, float* heads) {
    forward_kernel(d, qkv, att, heads);
}
void attention_forward(const attention_dims& d, const double* qkv, double* att, double* heads) {
    forward_kernel(d, qkv, att, heads);
}
void attention_backward(const attention_dims& d, const float* qkv, const float* att, const float* dheads,
                        float* dqkv) {
    backward_kernel(d, qkv, att, dheads, dqkv);
}
void attention_backward(const attention_dims& d, const double* qkv, const double* att, const double* dheads,
                        double* dqkv) {
    backward_kernel(d, qkv, att, dheads, dqkv);
}

}  // namespace nnp::detail

// The per-head loops of self-attention (include/nnprobe/layers/attention.hpp), out of line so
// that they run on the processor's widest vectors (one clone per instruction set, picked when
// the library loads) whatever flags the user's program is built with.
//
// Same bits as the plain loops: every dot product adds its terms in order of the feature,
// every accumulation over keys or queries in order of the position, one rounding per
// multiply and per add (the project builds with -ffp-contract=off). A vector lane is one query
// (scores, softmax, weighted values, their gradients for the queries) or one feature (the
// gradients for the keys and values), never a partial sum, and a lane whose key the query may
// not see adds an exact zero. Only sample b's real keys are read, so a sample's result does not
// depend on its batch.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include <nnprobe/layers/attention_kernels.hpp>

#include "vector_lanes.hpp"

namespace nnp::detail {
namespace {

// One vector of queries (64 bytes: 16 floats, 8 doubles).
template <class T>
struct lanes {
    static constexpr std::size_t count = 64 / sizeof(T);
    typedef T type __attribute__((vector_size(64)));
    using int_type = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
    typedef int_type mask __attribute__((vector_size(64)));
};
static_assert(attention_dims::query_lanes % lanes<float>::count == 0 &&
              attention_dims::query_lanes % lanes<double>::count == 0);

// The helpers are always inlined: they are compiled for the default instruction set, and a
// call from a clone would pass 64-byte vectors by a different convention.
#define NNP_INLINE __attribute__((always_inline)) inline

template <class V>
NNP_INLINE V load(const void* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
template <class V>
NNP_INLINE void store(void* p, const V& v) {
    std::memcpy(p, &v, sizeof v);
}

template <class T>
NNP_INLINE typename lanes<T>::type softmax_exp_lanes(typename lanes<T>::type x) {
    if constexpr (std::is_same_v<T, float>) {
        return exp_float<typename lanes<T>::type, typename lanes<T>::mask>(x);
    } else {
        for (std::size_t l = 0; l < lanes<T>::count; ++l) x[l] = std::exp(x[l]);
        return x;
    }
}

// The gradients for one key: dv[e] += sum_t a[t] * g[t * ldg + e] and dk[e] += sum_t ds[t] *
// q[t * ldq + e], e in [from, n), t in [first, last), the terms added one at a time in order
// of t (the sums stay in registers between them). A lane is a feature.
template <class T>
NNP_INLINE void add_key_gradients(T* __restrict dv, T* __restrict dk, const T* __restrict a, const T* __restrict ds,
                                  const T* __restrict g, std::size_t ldg, const T* __restrict q, std::size_t ldq,
                                  std::size_t first, std::size_t last, std::size_t from, std::size_t n) {
    typedef T V __attribute__((vector_size(32)));
    constexpr std::size_t L = 32 / sizeof(T);
    std::size_t e = from;
    for (; e + L <= n; e += L) {
        V accv = load<V>(dv + e), acck = load<V>(dk + e);
        for (std::size_t t = first; t < last; ++t) {
            accv += a[t] * load<V>(g + t * ldg + e);
            acck += ds[t] * load<V>(q + t * ldq + e);
        }
        store(dv + e, accv);
        store(dk + e, acck);
    }
    for (; e < n; ++e) {
        T accv = dv[e], acck = dk[e];
        for (std::size_t t = first; t < last; ++t) {
            accv += a[t] * g[t * ldg + e];
            acck += ds[t] * q[t * ldq + e];
        }
        dv[e] = accv;
        dk[e] = acck;
    }
}
// The same for four keys at once, key k's rows `ldd` (dv, dk) or P (a, ds) further on: eight
// independent sums, whose additions overlap.
template <class T>
NNP_INLINE void add_key_gradients4(T* __restrict dv, T* __restrict dk, std::size_t ldd, const T* __restrict a,
                                   const T* __restrict ds, std::size_t P, const T* __restrict g, std::size_t ldg,
                                   const T* __restrict q, std::size_t ldq, std::size_t first, std::size_t last,
                                   std::size_t n) {
    typedef T V __attribute__((vector_size(32)));
    constexpr std::size_t L = 32 / sizeof(T);
    std::size_t e = 0;
    for (; e + L <= n; e += L) {
        V v0 = load<V>(dv + e), v1 = load<V>(dv + ldd + e), v2 = load<V>(dv + 2 * ldd + e),
          v3 = load<V>(dv + 3 * ldd + e);
        V k0 = load<V>(dk + e), k1 = load<V>(dk + ldd + e), k2 = load<V>(dk + 2 * ldd + e),
          k3 = load<V>(dk + 3 * ldd + e);
        for (std::size_t t = first; t < last; ++t) {
            const V gt = load<V>(g + t * ldg + e), qt = load<V>(q + t * ldq + e);
            v0 += a[t] * gt;
            v1 += a[P + t] * gt;
            v2 += a[2 * P + t] * gt;
            v3 += a[3 * P + t] * gt;
            k0 += ds[t] * qt;
            k1 += ds[P + t] * qt;
            k2 += ds[2 * P + t] * qt;
            k3 += ds[3 * P + t] * qt;
        }
        store(dv + e, v0), store(dv + ldd + e, v1), store(dv + 2 * ldd + e, v2), store(dv + 3 * ldd + e, v3);
        store(dk + e, k0), store(dk + ldd + e, k1), store(dk + 2 * ldd + e, k2), store(dk + 3 * ldd + e, k3);
    }
    for (std::size_t k = 0; k < 4; ++k)
        add_key_gradients(dv + k * ldd, dk + k * ldd, a + k * P, ds + k * P, g, ldg, q, ldq, first, last, e, n);
}

// Columns [0, width) of positions [first, first + count) (of `len`), transposed: `width`
// vectors of L queries, zero past `len`. Row by row, so that the reads run along memory (a
// head's columns alone are a few floats from each of many rows, and the loads waited on them).
template <class T>
NNP_INLINE void gather_rows(const T* base, std::size_t ld, std::size_t width, std::size_t first, std::size_t len,
                            T* __restrict out) {
    constexpr std::size_t L = lanes<T>::count;
    const std::size_t count = std::min(L, len - first);
    for (std::size_t l = 0; l < count; ++l) {
        const T* row = base + (first + l) * ld;
        for (std::size_t c = 0; c < width; ++c) out[c * L + l] = row[c];
    }
    if (count < L)
        for (std::size_t c = 0; c < width; ++c) std::fill(out + c * L + count, out + c * L + L, T(0));
}
// The reverse for positions below `len`: base[(first + l) * ld + c] (+)= in[c * L + l], row by row.
template <class T, bool Add>
NNP_INLINE void scatter_rows(const T* __restrict in, std::size_t width, std::size_t first, std::size_t len, T* base,
                             std::size_t ld) {
    constexpr std::size_t L = lanes<T>::count;
    const std::size_t count = std::min(L, len - first);
    for (std::size_t l = 0; l < count; ++l) {
        T* row = base + (first + l) * ld;
        for (std::size_t c = 0; c < width; ++c) {
            if constexpr (Add) row[c] += in[c * L + l];
            else row[c] = in[c * L + l];
        }
    }
}

// Causal attention: the lanes whose query (first + l) may see key j.
template <class T>
NNP_INLINE typename lanes<T>::mask may_see(std::size_t first, std::size_t j) {
    typename lanes<T>::mask lane;
    for (std::size_t l = 0; l < lanes<T>::count; ++l) lane[l] = static_cast<typename lanes<T>::int_type>(first + l);
    return lane >= static_cast<typename lanes<T>::int_type>(j);
}

// One head and vector of queries: scores key by key, the running maximum and sum of
// exponentials, the weights (into a, key by key), and the weighted values (into o, dh vectors of
// queries). DH: the head width when known here (the queries and sums stay in registers), 0 for
// any (d.width / d.heads).
template <class T, std::size_t DH>
NNP_INLINE void forward_head(const attention_dims& d, const T* __restrict q, const T* k, const T* v, std::size_t ld,
                             std::size_t real, std::size_t first, T scale, T* __restrict s, T* __restrict a,
                             T* __restrict o) {
    using V = typename lanes<T>::type;
    constexpr std::size_t L = lanes<T>::count;
    const std::size_t dh = DH ? DH : d.width / d.heads, len = d.len, P = d.padded_len();
    const V zero = {}, minus_inf = zero - std::numeric_limits<T>::infinity();
    V qv[DH ? DH : 1];
    if constexpr (DH > 0)
        for (std::size_t e = 0; e < DH; ++e) qv[e] = load<V>(q + e * L);
    V top = minus_inf;
    for (std::size_t j = 0; j < real; ++j) {
        const T* kj = k + j * ld;
        V acc = zero;
        if constexpr (DH > 0)
            for (std::size_t e = 0; e < DH; ++e) acc += kj[e] * qv[e];
        else
            for (std::size_t e = 0; e < dh; ++e) acc += kj[e] * load<V>(q + e * L);
        acc *= scale;
        if (d.causal) acc = select(may_see<T>(first, j), acc, minus_inf);
        store(s + j * L, acc);
        top = select(top < acc, acc, top);
    }
    V sum = zero;
    for (std::size_t j = 0; j < real; ++j) {
        V e = softmax_exp_lanes<T>(load<V>(s + j * L) - top);
        if (d.causal) e = select(may_see<T>(first, j), e, zero);
        store(s + j * L, e);
        sum += e;
    }
    if constexpr (DH > 0) {
        V ov[DH];
        for (std::size_t e = 0; e < DH; ++e) ov[e] = zero;
        for (std::size_t j = 0; j < real; ++j) {
            const V w = load<V>(s + j * L) / sum;
            store(a + j * P + first, w);
            const T* vj = v + j * ld;
            for (std::size_t e = 0; e < DH; ++e) ov[e] = ov[e] + w * vj[e];
        }
        for (std::size_t e = 0; e < DH; ++e) store(o + e * L, ov[e]);
    } else {
        std::fill(o, o + dh * L, T(0));
        for (std::size_t j = 0; j < real; ++j) {
            const V w = load<V>(s + j * L) / sum;
            store(a + j * P + first, w);
            const T* vj = v + j * ld;
            for (std::size_t e = 0; e < dh; ++e) store(o + e * L, load<V>(o + e * L) + w * vj[e]);
        }
    }
    for (std::size_t j = real; j < len; ++j) store(a + j * P + first, zero);
}

// One head and vector of queries, backward: the gradient of the weights' logits (into ds, key
// by key) and of the queries (into dq, dh vectors), from g (the outputs' gradients, dh vectors).
template <class T, std::size_t DH>
NNP_INLINE void backward_head(const attention_dims& d, const T* __restrict g, const T* k, const T* v, std::size_t ld,
                              const T* a, std::size_t real, std::size_t first, T scale, T* __restrict da,
                              T* __restrict ds, T* __restrict dq) {
    using V = typename lanes<T>::type;
    constexpr std::size_t L = lanes<T>::count;
    const std::size_t dh = DH ? DH : d.width / d.heads, P = d.padded_len();
    const V zero = {};
    V gv[DH ? DH : 1];
    if constexpr (DH > 0)
        for (std::size_t e = 0; e < DH; ++e) gv[e] = load<V>(g + e * L);
    V dot = zero;  // sum_j a_ij da_ij
    for (std::size_t j = 0; j < real; ++j) {
        const T* vj = v + j * ld;
        V acc = zero;  // d loss / d a_ij
        if constexpr (DH > 0)
            for (std::size_t e = 0; e < DH; ++e) acc += vj[e] * gv[e];
        else
            for (std::size_t e = 0; e < dh; ++e) acc += vj[e] * load<V>(g + e * L);
        store(da + j * L, acc);
        dot += load<V>(a + j * P + first) * acc;
    }
    if constexpr (DH > 0) {
        V dqv[DH];
        for (std::size_t e = 0; e < DH; ++e) dqv[e] = zero;
        for (std::size_t j = 0; j < real; ++j) {
            V dsj = load<V>(a + j * P + first) * (load<V>(da + j * L) - dot) * scale;
            if (d.causal) dsj = select(may_see<T>(first, j), dsj, zero);
            store(ds + j * P + first, dsj);
            const T* kj = k + j * ld;
            for (std::size_t e = 0; e < DH; ++e) dqv[e] = dqv[e] + dsj * kj[e];
        }
        for (std::size_t e = 0; e < DH; ++e) store(dq + e * L, dqv[e]);
    } else {
        std::fill(dq, dq + dh * L, T(0));
        for (std::size_t j = 0; j < real; ++j) {
            V dsj = load<V>(a + j * P + first) * (load<V>(da + j * L) - dot) * scale;
            if (d.causal) dsj = select(may_see<T>(first, j), dsj, zero);
            store(ds + j * P + first, dsj);
            const T* kj = k + j * ld;
            for (std::size_t e = 0; e < dh; ++e) store(dq + e * L, load<V>(dq + e * L) + dsj * kj[e]);
        }
    }
}

// Per sample, head and vector of queries: scores key by key, the running maximum and sum of
// exponentials, the weights, and the weighted values.
template <class T>
__attribute__((target_clones("avx512f", "avx2", "default"))) void forward_kernel(const attention_dims& d,
                                                                                   const T* qkv, T* att,
                                                                                   T* heads) {
    constexpr std::size_t L = lanes<T>::count;
    const std::size_t D = d.width, H = d.heads, dh = D / H, len = d.len, ld = 3 * D;
    // Scratch as scalars: a vector type's alignment is lost as a template argument. The queries
    // and outputs of every head at once: q and o are D vectors of L queries.
    thread_local std::vector<T> q_, o_, s_;
    q_.resize(D * L);
    o_.resize(D * L);
    s_.resize(len * L);
    T *const qs = q_.data(), *const os = o_.data(), *const s = s_.data();  // no thread-local lookups in the loops
    const T scale = T(1) / std::sqrt(static_cast<T>(dh));
    for (std::size_t b = 0; b < d.rows; ++b) {
        const std::size_t real = d.lengths[b];
        const T* base = qkv + b * len * ld;
        for (std::size_t first = 0; first < len; first += L) {
            gather_rows(base, ld, D, first, len, qs);
            for (std::size_t h = 0; h < H; ++h) {
                T* a = att + d.weight_at(b, h, 0, 0);
                const T* k = base + D + h * dh;
                const T* v = base + 2 * D + h * dh;
                if (dh == 8)
                    forward_head<T, 8>(d, qs + h * dh * L, k, v, ld, real, first, scale, s, a, os + h * dh * L);
                else
                    forward_head<T, 0>(d, qs + h * dh * L, k, v, ld, real, first, scale, s, a, os + h * dh * L);
            }
            scatter_rows<T, false>(os, D, first, len, heads + b * len * D, D);
        }
    }
}

// Per sample and head: vector of queries by vector, the gradient of the weights' logits (ds)
// and of the queries; then, key by key, of the keys and values, each summed over the queries in
// order.
template <class T>
__attribute__((target_clones("avx512f", "avx2", "default"))) void backward_kernel(const attention_dims& d,
                                                                                    const T* qkv, const T* att,
                                                                                    const T* dheads, T* dqkv) {
    constexpr std::size_t L = lanes<T>::count;
    const std::size_t D = d.width, H = d.heads, dh = D / H, len = d.len, ld = 3 * D, P = d.padded_len();
    // Every head's output gradients and query gradients at once (D vectors of L queries), and
    // every head's ds, kept for the keys' pass.
    thread_local std::vector<T> g_, dq_, ds_, da_;  // scalars: see forward_kernel
    g_.resize(D * L);
    dq_.resize(D * L);
    ds_.resize(H * len * P);
    da_.resize(len * L);
    T *const gs = g_.data(), *const dqs = dq_.data(), *const dss = ds_.data(), *const da = da_.data();
    const T scale = T(1) / std::sqrt(static_cast<T>(dh));
    for (std::size_t b = 0; b < d.rows; ++b) {
        const std::size_t real = d.lengths[b];
        const T* base = qkv + b * len * ld;
        const T* dbase_o = dheads + b * len * D;
        T* dbase = dqkv + b * len * ld;
        for (std::size_t first = 0; first < len; first += L) {
            gather_rows(dbase_o, D, D, first, len, gs);
            for (std::size_t h = 0; h < H; ++h) {
                const T* a = att + d.weight_at(b, h, 0, 0);
                const T* k = base + D + h * dh;
                const T* v = base + 2 * D + h * dh;
                T* ds = dss + h * len * P;
                if (dh == 8)
                    backward_head<T, 8>(d, gs + h * dh * L, k, v, ld, a, real, first, scale, da, ds, dqs + h * dh * L);
                else
                    backward_head<T, 0>(d, gs + h * dh * L, k, v, ld, a, real, first, scale, da, ds, dqs + h * dh * L);
            }
            scatter_rows<T, true>(dqs, D, first, len, dbase, ld);
        }
        for (std::size_t h = 0; h < H; ++h) {
            const T* a = att + d.weight_at(b, h, 0, 0);
            const T* ds = dss + h * len * P;
            // Key j is seen by the queries i with j < keys(i): all of them, or i >= j when causal.
            // Keys go four at a time from the first key's first query: when causal, the others'
            // earlier queries have weight and ds exactly 0 and add exact zeros.
            std::size_t j = 0;
            for (; j + 4 <= real; j += 4)
                add_key_gradients4(dbase + j * ld + 2 * D + h * dh, dbase + j * ld + D + h * dh, ld, a + j * P,
                                   ds + j * P, P, dbase_o + h * dh, D, base + h * dh, ld, d.causal ? j : 0, len, dh);
            for (; j < real; ++j)
                add_key_gradients(dbase + j * ld + 2 * D + h * dh, dbase + j * ld + D + h * dh, a + j * P,
                                  ds + j * P, dbase_o + h * dh, D, base + h * dh, ld, d.causal ? j : 0, len, 0, dh);
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

float softmax_exp(float x) { return exp_float<float, std::int32_t>(x); }
double softmax_exp(double x) { return std::exp(x); }

}  // namespace nnp::detail

#undef NNP_INLINE

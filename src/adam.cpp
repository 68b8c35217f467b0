// Adam's update of one tensor (include/nnprobe/optimizer_kernels.hpp), compiled once here at
// float and double. The plain float update runs on the processor's widest vectors, chosen when
// the library loads (AVX-512 or AVX, whatever flags the user's program is built with); the
// measured one and double run in xsimd lanes. Both do the same IEEE operations in the same
// order as the scalar tail, one rounding each (no fused multiply-add): the same bits at every
// width.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <type_traits>

#include <nnprobe/optimizer.hpp>
#include <nnprobe/optimizer_kernels.hpp>

#include <xsimd/xsimd.hpp>

namespace nnp::detail {
namespace {

struct adam_floats {
    float b1, b2, c1, c2, step, eps, decay;
};

inline void adam_scalar(float* w, const float* g, float* m, float* v, std::size_t i, std::size_t n,
                        const adam_floats& k) {
    for (; i < n; ++i) {
        const float gi = g[i], wi = w[i];
        m[i] = k.b1 * m[i] + k.c1 * gi;
        v[i] = k.b2 * v[i] + k.c2 * gi * gi;
        w[i] = wi - (k.step * m[i] / (std::sqrt(v[i]) + k.eps) + k.decay * wi);
    }
}

// _mm512_sqrt_ps, masked to every lane: the same square roots, without g++ 12's false
// "may be used uninitialized" on the unmasked form's undefined pass-through.
__attribute__((target("avx512f"))) inline __m512 sqrt_all(__m512 x) { return _mm512_maskz_sqrt_ps(0xFFFF, x); }

__attribute__((target("avx512f"))) void adam_avx512(float* w, const float* g, float* m, float* v, std::size_t n,
                                                    const adam_floats& k) {
    const __m512 b1 = _mm512_set1_ps(k.b1), b2 = _mm512_set1_ps(k.b2), c1 = _mm512_set1_ps(k.c1),
                 c2 = _mm512_set1_ps(k.c2), step = _mm512_set1_ps(k.step), eps = _mm512_set1_ps(k.eps),
                 decay = _mm512_set1_ps(k.decay);
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 gi = _mm512_loadu_ps(g + i), wi = _mm512_loadu_ps(w + i);
        const __m512 mi = _mm512_add_ps(_mm512_mul_ps(b1, _mm512_loadu_ps(m + i)), _mm512_mul_ps(c1, gi));
        const __m512 vi =
            _mm512_add_ps(_mm512_mul_ps(b2, _mm512_loadu_ps(v + i)), _mm512_mul_ps(_mm512_mul_ps(c2, gi), gi));
        _mm512_storeu_ps(m + i, mi);
        _mm512_storeu_ps(v + i, vi);
        const __m512 u = _mm512_div_ps(_mm512_mul_ps(step, mi), _mm512_add_ps(sqrt_all(vi), eps));
        _mm512_storeu_ps(w + i, _mm512_sub_ps(wi, _mm512_add_ps(u, _mm512_mul_ps(decay, wi))));
    }
    adam_scalar(w, g, m, v, i, n, k);
}

__attribute__((target("avx"))) void adam_avx(float* w, const float* g, float* m, float* v, std::size_t n,
                                             const adam_floats& k) {
    const __m256 b1 = _mm256_set1_ps(k.b1), b2 = _mm256_set1_ps(k.b2), c1 = _mm256_set1_ps(k.c1),
                 c2 = _mm256_set1_ps(k.c2), step = _mm256_set1_ps(k.step), eps = _mm256_set1_ps(k.eps),
                 decay = _mm256_set1_ps(k.decay);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 gi = _mm256_loadu_ps(g + i), wi = _mm256_loadu_ps(w + i);
        const __m256 mi = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(c1, gi));
        const __m256 vi =
            _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + i)), _mm256_mul_ps(_mm256_mul_ps(c2, gi), gi));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        const __m256 u = _mm256_div_ps(_mm256_mul_ps(step, mi), _mm256_add_ps(_mm256_sqrt_ps(vi), eps));
        _mm256_storeu_ps(w + i, _mm256_sub_ps(wi, _mm256_add_ps(u, _mm256_mul_ps(decay, wi))));
    }
    adam_scalar(w, g, m, v, i, n, k);
}

enum class width { avx512, avx, none };
width widest() {
    static const width w = __builtin_cpu_supports("avx512f") ? width::avx512
                           : __builtin_cpu_supports("avx")   ? width::avx
                                                             : width::none;
    return w;
}

bool adam_update_wide(float* w, const float* g, float* m, float* v, std::size_t n, float b1, float b2, float c1,
                      float c2, float step, float eps, float decay) {
    const adam_floats k{b1, b2, c1, c2, step, eps, decay};
    switch (widest()) {
        case width::avx512: adam_avx512(w, g, m, v, n, k); return true;
        case width::avx: adam_avx(w, g, m, v, n, k); return true;
        default: return false;
    }
}

// Adam's update in SIMD lanes (xsimd, at the baseline's width): the same IEEE operations in the
// same order as the scalar tail, so the bits do not depend on the lane count. With Measure, the
// tensor_update is accumulated in the same pass, lane-wise. A plain float update takes the
// processor's widest vectors instead (above).
template <bool Measure, class T>
void adam_lanes(T* w, const T* g, T* m, T* v, std::size_t n, bool train, const adam_coefficients& k,
                tensor_update* stats) {
    using B = xsimd::batch<T>;
    constexpr std::size_t L = B::size;
    // 1 - beta in double, rounded once (as PyTorch's float32 Adam): 1 - float(0.999) is
    // 1.3e-5 off 0.001, and the bias corrections, in double, would not cancel that.
    const T b1 = T(k.b1), b2 = T(k.b2), c1 = T(1.0 - k.b1), c2 = T(1.0 - k.b2);
    const T step = T(k.step), eps = T(k.eps_hat), decay = T(k.decay);
    if constexpr (!Measure && std::is_same_v<T, float>) {
        if (!train) return;
        if (adam_update_wide(w, g, m, v, n, b1, b2, c1, c2, step, eps, decay)) return;
    }
    B g2(T(0)), w2(T(0)), d2(T(0)), gm(T(0)), wm(T(0)), dm(T(0));
    std::size_t i = 0;
    for (; i + L <= n; i += L) {
        const B gi = B::load_unaligned(g + i), wi = B::load_unaligned(w + i);
        B now = wi;
        if (train) {
            const B mi = B(b1) * B::load_unaligned(m + i) + B(c1) * gi;
            const B vi = B(b2) * B::load_unaligned(v + i) + B(c2) * gi * gi;
            mi.store_unaligned(m + i);
            vi.store_unaligned(v + i);
            now = wi - (B(step) * mi / (xsimd::sqrt(vi) + B(eps)) + B(decay) * wi);
            now.store_unaligned(w + i);
        }
        if constexpr (Measure) {
            const B d = now - wi;
            g2 += gi * gi; w2 += wi * wi; d2 += d * d;
            gm = xsimd::max(gm, xsimd::abs(gi)); wm = xsimd::max(wm, xsimd::abs(wi)); dm = xsimd::max(dm, xsimd::abs(d));
        }
    }
    T s[6][L] = {};
    if constexpr (Measure) {
        g2.store_unaligned(s[0]); w2.store_unaligned(s[1]); d2.store_unaligned(s[2]);
        gm.store_unaligned(s[3]); wm.store_unaligned(s[4]); dm.store_unaligned(s[5]);
    }
    for (std::size_t lane = 0; i < n; ++i, lane = (lane + 1) % L) {
        const T gi = g[i], wi = w[i];
        T now = wi;
        if (train) {
            m[i] = b1 * m[i] + c1 * gi;
            v[i] = b2 * v[i] + c2 * gi * gi;
            now = wi - (step * m[i] / (std::sqrt(v[i]) + eps) + decay * wi);
            w[i] = now;
        }
        if constexpr (Measure) {
            const T d = now - wi;
            s[0][lane] += gi * gi; s[1][lane] += wi * wi; s[2][lane] += d * d;
            s[3][lane] = std::max(s[3][lane], std::abs(gi));
            s[4][lane] = std::max(s[4][lane], std::abs(wi));
            s[5][lane] = std::max(s[5][lane], std::abs(d));
        }
    }
    if constexpr (Measure) {
        double r[6] = {};
        for (std::size_t q = 0; q < 6; ++q)
            for (std::size_t lane = 0; lane < L; ++lane)
                r[q] = q < 3 ? r[q] + double(s[q][lane]) : std::max(r[q], double(s[q][lane]));
        // SIMD max drops NaN; the sums keep it, so a NaN anywhere shows in both.
        for (std::size_t q = 0; q < 3; ++q)
            if (!std::isfinite(r[q])) r[q + 3] = r[q];
        *stats = {r[0], r[3], r[1], r[4], r[2], r[5]};
    }
}
}  // namespace

void adam_update(float* w, const float* g, float* m, float* v, std::size_t n, bool trainable,
                 const adam_coefficients& k, tensor_update* stats) {
    if (stats) adam_lanes<true>(w, g, m, v, n, trainable, k, stats);
    else adam_lanes<false>(w, g, m, v, n, trainable, k, stats);
}
void adam_update(double* w, const double* g, double* m, double* v, std::size_t n, bool trainable,
                 const adam_coefficients& k, tensor_update* stats) {
    if (stats) adam_lanes<true>(w, g, m, v, n, trainable, k, stats);
    else adam_lanes<false>(w, g, m, v, n, trainable, k, stats);
}

}  // namespace nnp::detail

// The optimisers' steps at float and double, declared extern in optimizer.hpp.
template class nnp::optimizer_state<nnp::sgd, float>;
template class nnp::optimizer_state<nnp::sgd, double>;
template class nnp::optimizer_state<nnp::adam, float>;
template class nnp::optimizer_state<nnp::adam, double>;

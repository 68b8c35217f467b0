// Adam's update of one tensor (include/nnprobe/optimizer_kernels.hpp), compiled once here at
// float and double. The float update, measured or not, runs on the processor's widest vectors,
// chosen when the library loads (AVX-512 or AVX, whatever flags the user's program is built
// with), the measurements summed in the order of the 4-lane loop; double runs in xsimd lanes.
// All do the same IEEE operations in the same order as the scalar tail, one rounding each (no
// fused multiply-add): the same bits at every width.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
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

// acc + x's four-lane quarters (halves), one after the other. (Masked AVX-512 forms, here and
// for the max below: the unmasked ones draw g++ 12's false "may be used uninitialized", as
// sqrt_all's.)
__attribute__((target("avx512f"))) inline __m128 quarters(__m128 acc, __m512 x) {
    acc = _mm_add_ps(acc, _mm512_maskz_extractf32x4_ps(0xF, x, 0));
    acc = _mm_add_ps(acc, _mm512_maskz_extractf32x4_ps(0xF, x, 1));
    acc = _mm_add_ps(acc, _mm512_maskz_extractf32x4_ps(0xF, x, 2));
    return _mm_add_ps(acc, _mm512_maskz_extractf32x4_ps(0xF, x, 3));
}
__attribute__((target("avx"))) inline __m128 halves(__m128 acc, __m256 x) {
    acc = _mm_add_ps(acc, _mm256_castps256_ps128(x));
    return _mm_add_ps(acc, _mm256_extractf128_ps(x, 1));
}
// The largest lane of x, reduced in registers (a scalar loop over the stored lanes was a chain of
// dependent maxes, the costliest part of measuring a small tensor).
inline float largest(__m128 x) {
    x = _mm_max_ps(x, _mm_movehl_ps(x, x));
    return _mm_cvtss_f32(_mm_max_ss(x, _mm_shuffle_ps(x, x, 1)));
}
__attribute__((target("avx512f"))) inline float largest(__m512 x) {
    return largest(_mm_max_ps(_mm_max_ps(_mm512_maskz_extractf32x4_ps(0xF, x, 0), _mm512_maskz_extractf32x4_ps(0xF, x, 1)),
                              _mm_max_ps(_mm512_maskz_extractf32x4_ps(0xF, x, 2), _mm512_maskz_extractf32x4_ps(0xF, x, 3))));
}
__attribute__((target("avx"))) inline float largest(__m256 x) {
    return largest(_mm_max_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1)));
}

// The statistics from the four lanes of each sum and the largest magnitudes: the lanes added
// in double, in lane order, and a non-finite sum standing for its largest magnitude (a vector
// max drops NaN). A largest magnitude is not NaN where it is kept: a finite sum has only finite
// terms, and among non-negative numbers a max does not depend on the order.
inline void combined(__m128 g2, __m128 w2, __m128 d2, float gm, float wm, float dm, tensor_update& out) {
    float s[3][4];
    _mm_storeu_ps(s[0], g2);
    _mm_storeu_ps(s[1], w2);
    _mm_storeu_ps(s[2], d2);
    auto sum = [](const float(&l)[4]) { return (((0.0 + double(l[0])) + double(l[1])) + double(l[2])) + double(l[3]); };
    auto top = [](double sum, float largest) { return std::isfinite(sum) ? std::max(0.0, double(largest)) : sum; };
    // Field by field: a whole tensor_update returned by value was put together through the
    // stack, a store-forwarding stall on every tensor.
    out.grad_sq = sum(s[0]);
    out.weight_sq = sum(s[1]);
    out.delta_sq = sum(s[2]);
    out.grad_max = top(out.grad_sq, gm);
    out.weight_max = top(out.weight_sq, wm);
    out.delta_max = top(out.delta_sq, dm);
}

// The measured float step on wide vectors, a whole tensor in one pass: the update as
// adam_avx512 / adam_avx make it, and the sums of squares in four float lanes, element i in
// lane i % 4, added in index order: the order of the 4-lane loop below, so the statistics keep
// its bits at any width (each 16 or 8 elements go in as quarters, one after the other). The
// last block is masked: its missing elements load as zeros and add +0 to the sums, which
// changes no sum of squares (they are +0 at least). The largest magnitudes are kept in every
// lane: a max does not depend on the order.
__attribute__((target("avx512f"))) void adam_measured_avx512(float* w, const float* g, float* m, float* v, std::size_t n,
                                                             bool train, const adam_floats& k, tensor_update& out) {
    const __m512 b1 = _mm512_set1_ps(k.b1), b2 = _mm512_set1_ps(k.b2), c1 = _mm512_set1_ps(k.c1),
                 c2 = _mm512_set1_ps(k.c2), step = _mm512_set1_ps(k.step), eps = _mm512_set1_ps(k.eps),
                 decay = _mm512_set1_ps(k.decay);
    __m128 g2 = _mm_setzero_ps(), w2 = _mm_setzero_ps(), d2 = _mm_setzero_ps();
    __m512 gm = _mm512_setzero_ps(), wm = _mm512_setzero_ps(), dm = _mm512_setzero_ps();
    for (std::size_t i = 0; i < n; i += 16) {
        const __mmask16 live = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
        const __m512 gi = _mm512_maskz_loadu_ps(live, g + i), wi = _mm512_maskz_loadu_ps(live, w + i);
        __m512 now = wi;
        if (train) {
            const __m512 mi =
                _mm512_add_ps(_mm512_mul_ps(b1, _mm512_maskz_loadu_ps(live, m + i)), _mm512_mul_ps(c1, gi));
            const __m512 vi = _mm512_add_ps(_mm512_mul_ps(b2, _mm512_maskz_loadu_ps(live, v + i)),
                                            _mm512_mul_ps(_mm512_mul_ps(c2, gi), gi));
            _mm512_mask_storeu_ps(m + i, live, mi);
            _mm512_mask_storeu_ps(v + i, live, vi);
            const __m512 u = _mm512_div_ps(_mm512_mul_ps(step, mi), _mm512_add_ps(sqrt_all(vi), eps));
            now = _mm512_sub_ps(wi, _mm512_add_ps(u, _mm512_mul_ps(decay, wi)));
            _mm512_mask_storeu_ps(w + i, live, now);
        }
        const __m512 d = _mm512_maskz_sub_ps(live, now, wi);  // missing elements: 0, whatever eps is
        g2 = quarters(g2, _mm512_mul_ps(gi, gi));
        w2 = quarters(w2, _mm512_mul_ps(wi, wi));
        d2 = quarters(d2, _mm512_mul_ps(d, d));
        gm = _mm512_maskz_max_ps(0xFFFF, gm, _mm512_abs_ps(gi));
        wm = _mm512_maskz_max_ps(0xFFFF, wm, _mm512_abs_ps(wi));
        dm = _mm512_maskz_max_ps(0xFFFF, dm, _mm512_abs_ps(d));
    }
    combined(g2, w2, d2, largest(gm), largest(wm), largest(dm), out);
}

// One block of 8 of adam_measured_avx; Whole: all 8 elements there, loaded and stored plainly,
// else the first lanes of `live` only, through the mask (vmaskmovps is the slower form).
template <bool Whole>
__attribute__((target("avx"), always_inline)) inline __m256 load8(const float* p, __m256i live) {
    if constexpr (Whole) return _mm256_loadu_ps(p);
    else return _mm256_maskload_ps(p, live);
}
struct avx_measures {
    __m128 g2, w2, d2;
    __m256 gm, wm, dm;
};
template <bool Whole>
__attribute__((target("avx"), always_inline)) inline void measured_block8(float* w, const float* g, float* m, float* v,
                                                                           bool train, const adam_floats& k,
                                                                           __m256i live, avx_measures& s) {
    const __m256 gi = load8<Whole>(g, live), wi = load8<Whole>(w, live);
    __m256 now = wi;
    if (train) {
        const __m256 mi = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(k.b1), load8<Whole>(m, live)),
                                        _mm256_mul_ps(_mm256_set1_ps(k.c1), gi));
        const __m256 vi = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(k.b2), load8<Whole>(v, live)),
                                        _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(k.c2), gi), gi));
        const __m256 u = _mm256_div_ps(_mm256_mul_ps(_mm256_set1_ps(k.step), mi),
                                       _mm256_add_ps(_mm256_sqrt_ps(vi), _mm256_set1_ps(k.eps)));
        now = _mm256_sub_ps(wi, _mm256_add_ps(u, _mm256_mul_ps(_mm256_set1_ps(k.decay), wi)));
        if constexpr (Whole) {
            _mm256_storeu_ps(m, mi);
            _mm256_storeu_ps(v, vi);
            _mm256_storeu_ps(w, now);
        } else {
            _mm256_maskstore_ps(m, live, mi);
            _mm256_maskstore_ps(v, live, vi);
            _mm256_maskstore_ps(w, live, now);
        }
    }
    __m256 d = _mm256_sub_ps(now, wi);
    if constexpr (!Whole) d = _mm256_and_ps(d, _mm256_castsi256_ps(live));  // missing elements: 0, whatever eps is
    const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    s.g2 = halves(s.g2, _mm256_mul_ps(gi, gi));
    s.w2 = halves(s.w2, _mm256_mul_ps(wi, wi));
    s.d2 = halves(s.d2, _mm256_mul_ps(d, d));
    s.gm = _mm256_max_ps(s.gm, _mm256_and_ps(gi, magnitude));
    s.wm = _mm256_max_ps(s.wm, _mm256_and_ps(wi, magnitude));
    s.dm = _mm256_max_ps(s.dm, _mm256_and_ps(d, magnitude));
}

__attribute__((target("avx"))) void adam_measured_avx(float* w, const float* g, float* m, float* v, std::size_t n,
                                                      bool train, const adam_floats& k, tensor_update& out) {
    avx_measures s{_mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps(),
                   _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) measured_block8<true>(w + i, g + i, m + i, v + i, train, k, __m256i{}, s);
    if (i < n) {
        // The mask of the first n - i lanes: the table read from entry 8 - (n - i).
        alignas(32) static const std::int32_t first[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
        const __m256i live = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(first + 8 - (n - i)));
        measured_block8<false>(w + i, g + i, m + i, v + i, train, k, live, s);
    }
    combined(s.g2, s.w2, s.d2, largest(s.gm), largest(s.wm), largest(s.dm), out);
}

bool adam_measured_wide(float* w, const float* g, float* m, float* v, std::size_t n, bool train, float b1, float b2,
                        float c1, float c2, float step, float eps, float decay, tensor_update* stats) {
    const adam_floats k{b1, b2, c1, c2, step, eps, decay};
    switch (widest()) {
        case width::avx512: adam_measured_avx512(w, g, m, v, n, train, k, *stats); return true;
        case width::avx: adam_measured_avx(w, g, m, v, n, train, k, *stats); return true;
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
    // A measured float step in four lanes (the baseline's SSE) takes the widest vectors, with
    // the same bits.
    if constexpr (Measure && std::is_same_v<T, float> && L == 4)
        if (adam_measured_wide(w, g, m, v, n, train, b1, b2, c1, c2, step, eps, decay, stats)) return;
    T s[6][L] = {};
    std::size_t i = 0;
    B g2(T(0)), w2(T(0)), d2(T(0)), gm(T(0)), wm(T(0)), dm(T(0));
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

// Adam's step at float and double, declared extern in optimizer.hpp.
template class nnp::optimizer_state<nnp::adam, float>;
template class nnp::optimizer_state<nnp::adam, double>;

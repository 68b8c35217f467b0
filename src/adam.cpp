// Adam's plain update of a float tensor (include/nnprobe/optimizer.hpp) on the processor's
// widest vectors, chosen when the library loads: AVX-512 or AVX, whatever flags the user's
// program is built with. The same IEEE operations in the same order as the header's loop, one
// rounding each (no fused multiply-add): the same bits at every width.
#include <immintrin.h>

#include <cmath>
#include <cstddef>

#include <nnprobe/optimizer_kernels.hpp>

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

}  // namespace

bool adam_update_wide(float* w, const float* g, float* m, float* v, std::size_t n, float b1, float b2, float c1,
                      float c2, float step, float eps, float decay) {
    const adam_floats k{b1, b2, c1, c2, step, eps, decay};
    switch (widest()) {
        case width::avx512: adam_avx512(w, g, m, v, n, k); return true;
        case width::avx: adam_avx(w, g, m, v, n, k); return true;
        default: return false;
    }
}

}  // namespace nnp::detail

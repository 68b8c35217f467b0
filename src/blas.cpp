// Matrix products through xtensor-blas, compiled once here rather than in every model
// translation unit. The raw buffers are adapted without copies.
//
// Before the first product, the BLAS kernel is checked against the processor: Debian's
// OpenBLAS 0.3.21 (DYNAMIC_ARCH) does not know recent Intel server processors and falls back
// to its generic SSE3 "Prescott" kernels, 4x slower than the AVX-512 ones on the same machine.
// OPENBLAS_CORETYPE fixes that, but OpenBLAS reads it when it loads, before any code of ours
// runs; its DYNAMIC_ARCH builds export the pair of functions that redo the selection, so the
// variable is set for the moment of that call. Where that is impossible the fix is printed once.
#include <nnprobe/blas.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <dlfcn.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <xtensor-blas/xblas.hpp>
#include <xtensor/xadapt.hpp>

#include "vector_lanes.hpp"

namespace nnp::detail {
namespace {

// Instruction-set levels, as far as the choice of a BLAS kernel goes.
enum class isa { sse, avx, avx2, avx512 };

struct processor {
    isa level = isa::sse;
    bool bf16 = false;  // AVX512_BF16: OpenBLAS's "Cooperlake" kernels
    bool amd = false;
    const char* describe() const {
        switch (level) {
            case isa::avx512: return "AVX-512";
            case isa::avx2: return "AVX2";
            case isa::avx: return "AVX";
            default: return "SSE";
        }
    }
};

processor this_processor() {
    processor p;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    // GCC's checks include the operating system's support (XCR0) for the wide registers.
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
        p.level = isa::avx512;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        p.level = isa::avx2;
    else if (__builtin_cpu_supports("avx"))
        p.level = isa::avx;
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (p.level == isa::avx512 && __get_cpuid_count(7, 1, &a, &b, &c, &d)) p.bf16 = (a >> 5) & 1u;
    p.amd = __builtin_cpu_is("amd");
#endif
    return p;
}

bool same_name(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
    return true;
}

// The level an OpenBLAS core name's kernels use; the names are OpenBLAS's own.
isa level_of_core(std::string_view core) {
    for (const char* n : {"SkylakeX", "Cooperlake", "SapphireRapids"})
        if (same_name(core, n)) return isa::avx512;
    for (const char* n : {"Haswell", "Zen", "Excavator", "Steamroller", "Piledriver"})
        if (same_name(core, n)) return isa::avx2;
    for (const char* n : {"Sandybridge", "Bulldozer"})
        if (same_name(core, n)) return isa::avx;
    return isa::sse;  // Prescott, Core2, Nehalem, Atom, Barcelona, ... and "Unknown"
}

// The core OpenBLAS itself picks for a processor it does not know by model, from its features.
const char* core_for(const processor& p) {
    switch (p.level) {
        case isa::avx512: return p.bf16 ? "Cooperlake" : "SkylakeX";
        case isa::avx2: return p.amd ? "Zen" : "Haswell";
        case isa::avx: return "Sandybridge";
        default: return nullptr;
    }
}

template <class F>
F symbol(const char* name) {
    return reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
}

blas_backend choose_backend() {
    blas_backend b;
    using text_fn = char* (*)();
    const auto corename = symbol<text_fn>("openblas_get_corename");
    const auto config = symbol<text_fn>("openblas_get_config");
    if (!corename) {
        b.library = "BLAS (not OpenBLAS)";
        b.kernel = b.detected = "unknown";
        return b;
    }
    b.library = "OpenBLAS";
    if (config) {  // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ...": the first two words
        const std::string c = config();
        const auto second = c.find(' ', c.find(' ') + 1);
        b.library = c.substr(0, second);
    }
    b.kernel = b.detected = corename();
    const processor cpu = this_processor();
    b.processor = cpu.describe();
    const char* want = core_for(cpu);
    b.fits = !want || level_of_core(b.detected) >= cpu.level;
    if (b.fits) return b;

    std::string fix = std::string("export OPENBLAS_CORETYPE=") + want;
    if (const char* user = std::getenv("OPENBLAS_CORETYPE")) {
        b.advice = std::string("OPENBLAS_CORETYPE=") + user + " selects them; " + fix + " instead";
    } else {
        const auto quit = symbol<void (*)()>("gotoblas_dynamic_quit");
        const auto init = symbol<void (*)()>("gotoblas_dynamic_init");
        if (quit && init) {
            // Once, before the first product; the variable lives only for this call.
            setenv("OPENBLAS_CORETYPE", want, 1);
            quit();
            init();
            unsetenv("OPENBLAS_CORETYPE");
            b.kernel = corename();
            b.switched = b.fits = same_name(b.kernel, want);
        }
        if (!b.switched)
            b.advice = "this OpenBLAS cannot switch kernels at run time: " + fix +
                       " before the program starts (or build OpenBLAS with DYNAMIC_ARCH=1)";
    }
    if (!b.advice.empty())
        std::fprintf(stderr,
                     "nnprobe: %s runs its generic \"%s\" kernels on this %s processor, several times "
                     "slower than its \"%s\" ones: %s.\n",
                     b.library.c_str(), b.kernel.c_str(), cpu.describe(), want, b.advice.c_str());
    return b;
}

template <class T>
void library_product(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const T* a, const T* b,
                     T* c) {
    (void)blas_in_use();  // the kernel is settled before the first product
    // Stored shapes: op(A) is m x k, op(B) is k x n.
    const std::array<std::size_t, 2> sa = ta ? std::array{k, m} : std::array{m, k};
    const std::array<std::size_t, 2> sb = tb ? std::array{n, k} : std::array{k, n};
    const auto A = xt::adapt(a, m * k, xt::no_ownership(), sa);
    const auto B = xt::adapt(b, k * n, xt::no_ownership(), sb);
    auto C = xt::adapt(c, m * n, xt::no_ownership(), std::array{m, n});
    xt::blas::gemm(A, B, C, ta, tb);
}

// ---- small products -----------------------------------------------------------------------
// Below a size (chosen by timing both paths on the probes' and benchmarks' shapes), a library
// call costs more than the arithmetic. Each lane of a vector is one element of C, summed over
// k in order, one rounding per multiply and per add (no fused multiply-add: the project
// builds with -ffp-contract=off): the bits are those of the plain triple loop, whatever the
// vector width, the processor or the number of rows.

// out (m x np) = A (m x k, A(i, p) = a[i * si + p * sp]) times rows (k x np, row-major), np a
// multiple of L; four rows of A at a time share each load of a row of `rows`.
template <class T, std::size_t L>
__attribute__((target_clones("avx512f", "avx2", "default"))) void small_kernel(
    std::size_t m, std::size_t np, std::size_t k, const T* __restrict a, std::size_t si, std::size_t sp,
    const T* __restrict rows, T* __restrict out) {
    using V = typename lanes_of<T, L>::type;
    for (std::size_t j0 = 0; j0 < np; j0 += L) {
        std::size_t i = 0;
        for (; i + 4 <= m; i += 4) {
            V c0 = {}, c1 = {}, c2 = {}, c3 = {};
            const T* a0 = a + i * si;
            const T *a1 = a0 + si, *a2 = a1 + si, *a3 = a2 + si;
            for (std::size_t p = 0; p < k; ++p) {
                V b;
                std::memcpy(&b, rows + p * np + j0, sizeof b);
                c0 += a0[p * sp] * b;
                c1 += a1[p * sp] * b;
                c2 += a2[p * sp] * b;
                c3 += a3[p * sp] * b;
            }
            std::memcpy(out + (i + 0) * np + j0, &c0, sizeof c0);
            std::memcpy(out + (i + 1) * np + j0, &c1, sizeof c1);
            std::memcpy(out + (i + 2) * np + j0, &c2, sizeof c2);
            std::memcpy(out + (i + 3) * np + j0, &c3, sizeof c3);
        }
        for (; i < m; ++i) {
            V c0 = {};
            const T* a0 = a + i * si;
            for (std::size_t p = 0; p < k; ++p) {
                V b;
                std::memcpy(&b, rows + p * np + j0, sizeof b);
                c0 += a0[p * sp] * b;
            }
            std::memcpy(out + i * np + j0, &c0, sizeof c0);
        }
    }
}

// op(B) is copied into whole vectors (zero-padded) when it is transposed or its width is not
// a multiple of L; C goes through a padded buffer when its width is not. The buffers grow
// once per thread, so a steady batch size allocates nothing.
template <class T, std::size_t L>
void small_product_lanes(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const T* a,
                         const T* b, T* c) {
    thread_local std::vector<T> b_rows, c_rows;
    const std::size_t np = (n + L - 1) / L * L;
    const T* rows = b;
    if (tb || np != n) {
        if (b_rows.size() < k * np) b_rows.resize(k * np);
        for (std::size_t p = 0; p < k; ++p) {
            T* d = b_rows.data() + p * np;
            for (std::size_t j = 0; j < n; ++j) d[j] = tb ? b[j * k + p] : b[p * n + j];
            for (std::size_t j = n; j < np; ++j) d[j] = T(0);
        }
        rows = b_rows.data();
    }
    T* out = c;
    if (np != n) {
        if (c_rows.size() < m * np) c_rows.resize(m * np);
        out = c_rows.data();
    }
    small_kernel<T, L>(m, np, k, a, ta ? 1 : k, ta ? m : 1, rows, out);
    if (np != n)
        for (std::size_t i = 0; i < m; ++i) std::copy(out + i * np, out + i * np + n, c + i * n);
}

template <class T>
void small_product(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const T* a, const T* b,
                   T* c) {
    if (n <= 4)
        small_product_lanes<T, 4>(ta, tb, m, n, k, a, b, c);
    else if (n <= 8)
        small_product_lanes<T, 8>(ta, tb, m, n, k, a, b, c);
    else
        small_product_lanes<T, 16>(ta, tb, m, n, k, a, b, c);
}

template <class T>
void product(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const T* a, const T* b, T* c) {
    if (is_small_product(m, n, k))
        small_product(ta, tb, m, n, k, a, b, c);
    else
        library_product(ta, tb, m, n, k, a, b, c);
}
}  // namespace

// Measured against OpenBLAS 0.3.21's SkylakeX kernels on the products of the benchmarks
// (32x16x4, 4x16x32, 1x16x4, 16x16x16: the loop takes 0.5-0.95 of the library's time;
// 64x16x16 and beyond, or fewer than 8 columns: 1.2-3x). On generic kernels the loop wins
// by more.
bool is_small_product(std::size_t m, std::size_t n, std::size_t k) { return n >= 8 && m * n * k <= 4096; }

void blas_gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const float* a, const float* b,
               float* c) {
    library_product(ta, tb, m, n, k, a, b, c);
}
void blas_gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const double* a, const double* b,
               double* c) {
    library_product(ta, tb, m, n, k, a, b, c);
}
void small_gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const float* a, const float* b,
                float* c) {
    small_product(ta, tb, m, n, k, a, b, c);
}
void small_gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const double* a, const double* b,
                double* c) {
    small_product(ta, tb, m, n, k, a, b, c);
}

const blas_backend& blas_in_use() {
    static const blas_backend b = choose_backend();
    return b;
}

void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const float* a, const float* b, float* c) {
    product(ta, tb, m, n, k, a, b, c);
}
void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const double* a, const double* b,
          double* c) {
    product(ta, tb, m, n, k, a, b, c);
}
}  // namespace nnp::detail

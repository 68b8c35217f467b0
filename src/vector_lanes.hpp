#pragma once
// What the library's vector loops share (blas.cpp, layer_kernels.cpp, attention.cpp; internal
// to src/): g++'s vector types, a lane-by-lane select and e^x on float lanes. All are plain
// IEEE operations and integer bit moves, so each lane has the bits of the one-value version,
// whatever the vector width or the processor. They are always inlined: the loops that use them
// are cloned per instruction set, and a call from a clone would pass its vectors by another
// convention.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace nnp::detail {

// L lanes of T (an alias template cannot carry the vector attribute, hence the specialisations).
template <class T, std::size_t L>
struct lanes_of;
template <std::size_t L>
struct lanes_of<float, L> {
    typedef float type __attribute__((vector_size(L * sizeof(float))));
};
template <std::size_t L>
struct lanes_of<double, L> {
    typedef double type __attribute__((vector_size(L * sizeof(double))));
};
template <std::size_t L>
struct lanes_of<std::int32_t, L> {
    typedef std::int32_t type __attribute__((vector_size(L * sizeof(std::int32_t))));
};
template <std::size_t L>
struct lanes_of<std::uint32_t, L> {
    typedef std::uint32_t type __attribute__((vector_size(L * sizeof(std::uint32_t))));
};

// m ? a : b, lane by lane: in bits, as GCC's ?: on vectors may go one lane at a time.
template <class M, class V>
__attribute__((always_inline)) inline V select(const M& m, const V& a, const V& b) {
    if constexpr (std::is_arithmetic_v<V>) {
        return m ? a : b;
    } else {
        M ia, ib;
        std::memcpy(&ia, &a, sizeof a);
        std::memcpy(&ib, &b, sizeof b);
        const M bits = (m & ia) | (~m & ib);
        V out;
        std::memcpy(&out, &bits, sizeof out);
        return out;
    }
}

// e^x for a float or a vector of floats (V), I its 32-bit integer twin: x = n ln2 + r with n
// whole and |r| <= ln2 / 2, e^r from Cephes' degree-7 polynomial (about 1 ulp), 2^n put in the
// exponent's bits. Inputs below -87.3 (where e^x is under the smallest normal float) give 0,
// above 88 infinity; NaN stays NaN. The C library's expf cannot serve: one value per call, and
// the vector versions of libmvec differ between processors.
template <class V, class I>
__attribute__((always_inline)) inline V exp_float(V x) {
    const V lo = V{} - 87.3365447f, hi = V{} + 88.0f;
    V c = select(x > lo, x, lo);  // NaN becomes lo here and is passed through below
    c = select(c < hi, c, hi);
    const V magic = V{} + 12582912.0f;  // 1.5 * 2^23: adding it rounds to a whole number
    const V nf = (c * 1.44269504088896341f + magic) - magic;
    V r = c - nf * 0.693359375f;  // x - n ln 2, in two parts
    r = r - nf * -2.12194440e-4f;
    V p = V{} + 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    I n;
    if constexpr (std::is_same_v<V, float>)
        n = static_cast<I>(nf);
    else
        n = __builtin_convertvector(nf, I);
    V two_n;
    const I bits = (n + 127) << 23;
    std::memcpy(&two_n, &bits, sizeof two_n);
    const V y = p * two_n;
    const V inf = V{} + std::numeric_limits<float>::infinity();
    return select(x != x, x, select(x < lo, V{}, select(x > hi, inf, y)));
}

}  // namespace nnp::detail

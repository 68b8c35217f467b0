#pragma once
// A seeded generator with its own uniform, normal and shuffle, so that a seed gives the same
// bits with every compiler and standard library (std distributions and std::shuffle do not).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace nnp {

// A seed as a distinct type, so `seed{7}` reads as what it is at call sites.
struct seed {
    std::uint64_t value = 0;
};

class rng {
public:
    explicit rng(std::uint64_t s = 0) : state_(s) {}
    explicit rng(seed s) : state_(s.value) {}

    // splitmix64: tiny, fast, passes BigCrush, and trivially portable.
    std::uint64_t next_u64() {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    // Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

    // Standard normal by Box-Muller in double precision (no cached spare: the stream of
    // draws does not depend on how many normals were asked for before).
    double normal() {
        double u1 = uniform();
        double u2 = uniform();
        if (u1 < 0x1.0p-60) u1 = 0x1.0p-60;  // log(0) guard
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586476925 * u2);
    }

    // Unbiased integer in [0, n) by rejection.
    std::uint64_t below(std::uint64_t n) {
        if (n <= 1) return 0;
        const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % n);
        std::uint64_t x;
        do x = next_u64();
        while (x >= limit);
        return x % n;
    }

    // Fisher-Yates, with our own `below`.
    template <class RandomIt>
    void shuffle(RandomIt first, RandomIt last) {
        const auto n = static_cast<std::uint64_t>(last - first);
        for (std::uint64_t i = n; i > 1; --i) {
            const auto j = below(i);
            using std::swap;
            swap(first[i - 1], first[j]);
        }
    }

    // An independent stream derived from this generator's seed and a stream number, so
    // each node draws its initial weights from its own stream: adding a node does not
    // change the weights of the others.
    rng fork(std::uint64_t stream) const {
        rng r(state_ ^ (0xd1b54a32d192ed03ULL * (stream + 1)));
        r.next_u64();
        return r;
    }

private:
    std::uint64_t state_;
};

}  // namespace nnp

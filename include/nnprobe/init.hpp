#pragma once
// Parameter initialisation from a seeded stream (never std distributions: same bits
// everywhere).
#include <cmath>
#include <cstddef>

#include "layer.hpp"
#include "random.hpp"
#include "tensor.hpp"

namespace nnp::detail {

// Fill `w` according to a resolved spec (never `automatic` here).
template <class Tensor>
void initialise(Tensor& w, init_spec s, std::size_t fan_in, std::size_t fan_out, rng& r) {
    using T = typename Tensor::value_type;
    switch (s.kind) {
        case init_spec::he: {
            const double sd = std::sqrt(2.0 / static_cast<double>(fan_in));
            for (auto& v : w) v = static_cast<T>(sd * r.normal());
            break;
        }
        case init_spec::automatic:  // callers resolve it; Glorot is the safe fallback
        case init_spec::glorot: {
            const double a = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
            for (auto& v : w) v = static_cast<T>(r.uniform(-a, a));
            break;
        }
        case init_spec::normal:
            for (auto& v : w) v = static_cast<T>(s.value * r.normal());
            break;
        case init_spec::uniform:
            for (auto& v : w) v = static_cast<T>(r.uniform(-s.value, s.value));
            break;
        case init_spec::constant:
            for (auto& v : w) v = static_cast<T>(s.value);
            break;
    }
}
// Compiled once, in the library (src/layer_kernels.cpp), for the matrices of every layer.
extern template void initialise(matrix<float>&, init_spec, std::size_t, std::size_t, rng&);
extern template void initialise(matrix<double>&, init_spec, std::size_t, std::size_t, rng&);

}  // namespace nnp::detail

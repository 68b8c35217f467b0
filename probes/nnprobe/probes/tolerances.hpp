#pragma once
// Floating-point tolerances from the scalar type, apart from the probe options so that the
// model-level probes need not parse the pipeline. Invariance allows for a different
// summation order in the matrix products of a batch and of one sample (about 2^10 ulp);
// "changed" means moved by at least one ulp of the tensor's largest weight.
#include <limits>

namespace nnp::detail {

template <class T>
constexpr double invariance_tolerance() {
    return 1024.0 * std::numeric_limits<T>::epsilon();
}
template <class T>
constexpr double change_tolerance() {
    return std::numeric_limits<T>::epsilon();
}

}  // namespace nnp::detail

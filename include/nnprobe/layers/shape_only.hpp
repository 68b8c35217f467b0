#pragma once
// Nodes whose runtime part is the identity: flatten (a c x h x w sample becomes one row of
// c*h*w features; storage is already flat) and linear_ok, the explicit, local opt-out of C2
// (the linear junction it sits on is intended: a factorised layer) and of C3 (an
// intentionally linear model).
#include <string>

#include "../layer.hpp"
#include "../sequence.hpp"
#include "../shape.hpp"
#include "../tensor.hpp"

namespace nnp {

namespace detail {
template <class T>
struct identity_impl {
    void forward(const matrix<T>& x, matrix<T>& y, context&) { copy_into(y, x); }
    void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx, context&) {
        if (dx) copy_into(*dx, dy);
    }
};
}  // namespace detail

struct flatten_t {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    // A sequence's length is the batch's: pool over its positions instead.
    template <class In>
    static constexpr bool accepts = !detail::is_sequence<In>;
    template <class In>
    using output_shape = shape<In::size>;
    static std::string describe() { return "flatten"; }
    template <class T, class In>
    using impl = detail::identity_impl<T>;
};
inline constexpr flatten_t flatten{};

struct linear_ok_t {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    static constexpr bool acknowledges_linear = true;
    template <class In>
    using output_shape = In;
    static std::string describe() { return "linear_ok"; }
    template <class T, class In>
    using impl = detail::identity_impl<T>;
};
inline constexpr linear_ok_t linear_ok{};

}  // namespace nnp

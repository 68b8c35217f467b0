#pragma once
// Elementwise activations. Each states its function, its derivative (from x and y), and the
// initialiser that suits the affine layer before it (He for the relu family, Glorot for
// tanh/sigmoid).
#include <cmath>
#include <string>

#include "../layer.hpp"
#include "../tensor.hpp"

namespace nnp {

namespace detail {
// The elementwise loops, compiled once in src/layer_kernels.cpp for each activation below at
// float and double (on the processor's widest vectors): y = f(x), dx = dy * f'(x, y).
template <class Spec, class T>
void activation_forward(const Spec& spec, const T* x, T* y, std::size_t n);
template <class Spec, class T>
void activation_backward(const Spec& spec, const T* x, const T* y, const T* dy, T* dx, std::size_t n);

// Shared runtime part.
template <class Spec, class T>
struct elementwise_impl {
    Spec spec{};
    void init(const Spec& s, const init_spec&, rng&) { spec = s; }
    void forward(const matrix<T>& x, matrix<T>& y, context&) {
        activation_forward(spec, x.data(), y.data(), x.size());
    }
    void backward(const matrix<T>& x, const matrix<T>& y, const matrix<T>& dy, matrix<T>* dx,
                  context&) {
        if (dx) activation_backward(spec, x.data(), y.data(), dy.data(), dx->data(), x.size());
    }
};

template <class Spec>
struct activation_base {
    static constexpr linearity_class linearity = linearity_class::nonlinear;
    template <class In>
    using output_shape = In;
    template <class T, class In>
    using impl = elementwise_impl<Spec, T>;
};
}  // namespace detail

struct relu_t : detail::activation_base<relu_t> {
    static constexpr init_spec::kind_t preferred_init = init_spec::he;
    static std::string describe() { return "relu"; }
    template <class T>
    static T f(T x) { return x > T(0) ? x : T(0); }
    template <class T>
    static T df(T x, T) { return x > T(0) ? T(1) : T(0); }
    // dy * df(x, y) as a select, branch-free (as PyTorch's threshold_backward).
    template <class T>
    static T grad(T x, T, T dy) { return x > T(0) ? dy : T(0); }
};

struct leaky_relu_t : detail::activation_base<leaky_relu_t> {
    static constexpr init_spec::kind_t preferred_init = init_spec::he;
    double slope = 0.01;
    constexpr leaky_relu_t operator()(double s) const {
        if (s == 1) detail::nnprobe_leaky_relu_slope_1_is_the_identity();  // C2 would miss it
        return leaky_relu_t{{}, s};
    }
    std::string describe() const { return "leaky_relu"; }
    template <class T>
    T f(T x) const { return x > T(0) ? x : static_cast<T>(slope) * x; }
    template <class T>
    T df(T x, T) const { return x > T(0) ? T(1) : static_cast<T>(slope); }
};

struct tanh_t : detail::activation_base<tanh_t> {
    static constexpr init_spec::kind_t preferred_init = init_spec::glorot;
    static std::string describe() { return "tanh"; }
    template <class T>
    static T f(T x) { return std::tanh(x); }
    template <class T>
    static T df(T, T y) { return T(1) - y * y; }
};

struct sigmoid_t : detail::activation_base<sigmoid_t> {
    static constexpr init_spec::kind_t preferred_init = init_spec::glorot;
    static std::string describe() { return "sigmoid"; }
    template <class T>
    static T f(T x) {
        // Split by sign so exp never overflows.
        if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
        const T e = std::exp(x);
        return e / (T(1) + e);
    }
    template <class T>
    static T df(T, T y) { return y * (T(1) - y); }
};

// GELU, exact: x * Phi(x), Phi the standard normal CDF (PyTorch's nn.GELU() default).
struct gelu_t : detail::activation_base<gelu_t> {
    static constexpr init_spec::kind_t preferred_init = init_spec::he;
    static std::string describe() { return "gelu"; }
    template <class T>
    static T f(T x) {
        return T(0.5) * x * (T(1) + std::erf(x * T(0.7071067811865476)));  // 1/sqrt(2)
    }
    // Phi(x) + x phi(x).
    template <class T>
    static T df(T x, T) {
        const T cdf = T(0.5) * (T(1) + std::erf(x * T(0.7071067811865476)));
        return cdf + x * T(0.3989422804014327) * std::exp(T(-0.5) * x * x);  // 1/sqrt(2 pi)
    }
};

// GELU, tanh approximation (BERT, GPT-2; PyTorch's nn.GELU(approximate="tanh")).
struct gelu_tanh_t : detail::activation_base<gelu_tanh_t> {
    static constexpr init_spec::kind_t preferred_init = init_spec::he;
    static std::string describe() { return "gelu_tanh"; }
    template <class T>
    static T f(T x) {
        const T c = T(0.7978845608028654), k = T(0.044715);
        return T(0.5) * x * (T(1) + std::tanh(c * (x + k * x * x * x)));
    }
    template <class T>
    static T df(T x, T) {
        const T c = T(0.7978845608028654), k = T(0.044715);
        const T t = std::tanh(c * (x + k * x * x * x));
        return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * c * (T(1) + T(3) * k * x * x);
    }
};

inline constexpr relu_t relu{};
inline constexpr leaky_relu_t leaky_relu{};
inline constexpr tanh_t tanh_act{};  // not `tanh`: that would collide with ::tanh under `using namespace nnp`
inline constexpr sigmoid_t sigmoid{};
inline constexpr gelu_t gelu{};
inline constexpr gelu_tanh_t gelu_tanh{};

}  // namespace nnp

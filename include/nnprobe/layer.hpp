#pragma once
// What every layer states about itself, and the options any node can carry (initialiser,
// frozen, learning-rate scale). The layer concept itself is documented in
// docs-by-example: examples/custom_layer.cpp.
//
// A layer spec L (an empty or small constexpr value) provides:
//   static constexpr nnp::linearity_class linearity;   // C2/C3 read it (C7 demands it)
//   template <class In> using output_shape = ...;      // the shape rule (C7 demands it)
//   template <class In> static constexpr bool accepts;  // optional: C1 reads it
//   static std::string describe();                      // optional: "dense<16>"
//   template <class T, class In> struct impl {          // the runtime part at scalar T
//     void init(const L&, const nnp::init_spec&, nnp::rng&);              // optional
//     template <class F> void for_each_param(F&& f);  // f(name, value, grad), optional
//     void forward(const matrix<T>& x, matrix<T>& y, nnp::context& ctx);
//     void backward(const matrix<T>& x, const matrix<T>& y, const matrix<T>& dy,
//                   matrix<T>* dx, nnp::context& ctx);  // assign dx (when non-null)
//   };                                                  // and every parameter gradient
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

#include "error.hpp"
#include "random.hpp"

namespace nnp {

// Linearity classes: what the static checks need to know about a node.
enum class linearity_class {
    nonlinear,           // relu, tanh, sigmoid, gelu, layer norm, hidden softmax, ...
    affine_mixing,       // dense, conv: mixes features
    affine_elementwise,  // batch norm (eval), scale, dropout, flatten, add, concat
};

// Mode of a forward pass: dropout and batch-norm statistics differ between them.
enum class mode { train, eval };

class padding_mask;  // sequence.hpp

// Per-pass state handed to layers.
struct context {
    mode pass = mode::train;
    rng* random = nullptr;  // dropout masks: the model's pass stream, seeded from its seed
    const padding_mask* mask = nullptr;  // sequence models: the batch's real positions
    bool training() const { return pass == mode::train; }
};

// How a parameter tensor is initialised. `automatic` lets the model pick from the
// activation that follows the node: He for the relu family, Glorot for tanh/sigmoid and
// for output layers.
struct init_spec {
    enum kind_t : std::uint8_t { automatic, he, glorot, normal, uniform, constant } kind = automatic;
    double value = 0;  // std (normal), half-width (uniform), or the constant
};

namespace init {
inline constexpr init_spec he{init_spec::he};
inline constexpr init_spec glorot{init_spec::glorot};
constexpr init_spec normal(double stddev) { return {init_spec::normal, stddev}; }
constexpr init_spec uniform(double half_width) { return {init_spec::uniform, half_width}; }
constexpr init_spec constant(double v) { return {init_spec::constant, v}; }
inline constexpr init_spec zeros{init_spec::constant, 0.0};
}  // namespace init

// Options every node carries, set with chained calls on the layer value:
// `dense<16>.init(nnp::init::glorot)`, `dense<8>.frozen()`, `dense<8>.lr_scale(0.1)`.
template <class Derived>
struct layer_base {
    init_spec init_ = {};
    bool trainable_ = true;
    double lr_scale_ = 1.0;

    constexpr Derived init(init_spec s) const { Derived d = self(); d.init_ = s; return d; }
    constexpr Derived frozen() const { Derived d = self(); d.trainable_ = false; return d; }
    constexpr Derived lr_scale(double k) const { Derived d = self(); d.lr_scale_ = k; return d; }

private:
    constexpr const Derived& self() const { return static_cast<const Derived&>(*this); }
};

namespace detail {
// Settings no layer can work with. Not constexpr on purpose: in a constant expression (a
// constexpr graph) calling one is the compile error, and g++ and clang print its name,
// which says what is wrong; at run time it throws.
[[noreturn]] inline void nnprobe_dropout_rate_must_be_in_0_1(double rate) {
    throw error("nnprobe: dropout(" + std::to_string(rate) +
                "): the rate is the probability of dropping an element, in [0, 1)");
}
[[noreturn]] inline void nnprobe_leaky_relu_slope_1_is_the_identity() {
    throw error("nnprobe: leaky_relu(1) is the identity, not a nonlinearity: use a slope other "
                "than 1 (0.01 is usual), or remove it and mark the junction nnp::linear_ok");
}

// `linearity` must be a static member: the checks read it from the type. (A non-static one
// passes `L::linearity` in an unevaluated operand, hence the address test.)
template <class L>
concept states_linearity = requires {
    { L::linearity } -> std::convertible_to<linearity_class>;
    { &L::linearity } -> std::convertible_to<const linearity_class*>;
};
template <class L>
concept has_non_static_linearity = requires {
    { L::linearity } -> std::convertible_to<linearity_class>;
} && !states_linearity<L>;
template <class L, class In>
concept states_shape_rule = requires { typename L::template output_shape<In>; };
template <class L, class In>
constexpr bool layer_accepts() {
    if constexpr (requires { L::template accepts<In>; }) return L::template accepts<In>;
    else return true;
}
template <class L>
std::string describe_layer(const L& l) {
    if constexpr (requires { l.describe(); }) return std::string(l.describe());
    else return "custom";
}
}  // namespace detail

}  // namespace nnp

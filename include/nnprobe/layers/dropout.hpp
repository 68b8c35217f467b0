#pragma once
// dropout(p): in training, zero each element with probability p and scale the survivors by
// 1/(1-p) (inverted dropout); in evaluation, the identity. The mask comes from the pass's
// seeded generator.
#include <string>

#include "../layer.hpp"
#include "../tensor.hpp"

namespace nnp {

struct dropout_t {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    double rate = 0.5;
    constexpr dropout_t operator()(double p) const {
        if (!(p >= 0 && p < 1)) detail::nnprobe_dropout_rate_must_be_in_0_1(p);  // NaN too
        return dropout_t{p};
    }
    template <class In>
    using output_shape = In;
    std::string describe() const { return "dropout(" + std::to_string(rate) + ")"; }

    template <class T, class In>
    struct impl {
        double rate = 0.5;
        matrix<T> mask;
        void init(const dropout_t& s, const init_spec&, rng&) { rate = s.rate; }
        void forward(const matrix<T>& x, matrix<T>& y, context& ctx) {
            detail::ensure_shape(mask, x.shape()[0], x.shape()[1]);
            if (!ctx.training() || rate <= 0 || !ctx.random) {
                mask.fill(T(1));
            } else {
                const T keep_scale = static_cast<T>(1.0 / (1.0 - rate));
                for (auto& m : mask) m = ctx.random->uniform() < rate ? T(0) : keep_scale;
            }
            detail::multiply_into(y, x, mask);
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            if (dx) detail::multiply_into(*dx, dy, mask);
        }
    };
};
inline constexpr dropout_t dropout{};


}  // namespace nnp

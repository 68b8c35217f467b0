#pragma once
// Optimisers, as plain settings (`adam{.lr = 1e-2}`) plus a state that updates a model's
// parameter views in place. Frozen nodes are skipped; `lr_scale` multiplies the rate.
//
// A step can also measure what it did, per tensor (gradient, weight and update sizes), in
// the same pass over the memory: that is how the probes record at a small fraction of the
// step's cost. Without a stats vector the plain loop runs.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "model.hpp"
#include "optimizer_kernels.hpp"

namespace nnp {

// Plain SGD, optionally with (heavy-ball) momentum and L2 weight decay.
struct sgd {
    double lr = 1e-2;
    double momentum = 0.0;
    double weight_decay = 0.0;
};

// Adam (Kingma & Ba); weight decay is decoupled, as in AdamW.
struct adam {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0.0;
};

// What one step did to one tensor: sums of squares and largest magnitudes of the gradient,
// of the weights before the step, and of the update (new - old).
struct tensor_update {
    double grad_sq = 0, grad_max = 0;
    double weight_sq = 0, weight_max = 0;
    double delta_sq = 0, delta_max = 0;
};

namespace detail {
// |x| as an ordered integer: for non-negative floats the bit patterns sort like the values,
// so the largest magnitude is an integer max (cheap, and NaN still sorts above every number).
template <class T>
using bits_of = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
template <class T>
bits_of<T> magnitude_bits(T x) {
    bits_of<T> b;
    std::memcpy(&b, &x, sizeof b);
    return b & (~bits_of<T>(0) >> 1);
}
template <class T>
double from_magnitude_bits(bits_of<T> b) {
    T x;
    std::memcpy(&x, &b, sizeof x);
    return static_cast<double>(x);
}

// Runs `update(i) -> new value` over a tensor, measuring when `stats` is given. A frozen
// tensor is measured but not changed. The measuring loop keeps four partial sums per
// quantity so the additions do not wait on each other (one chain would double the cost of
// an Adam step); the order is fixed, so the figures are as deterministic as the step.
template <class T, class Update>
void apply_update(const param_ref<T>& p, tensor_update* stats, Update&& update) {
    if (!stats) {
        if (p.trainable)
            for (std::size_t i = 0; i < p.size; ++i) p.value[i] = update(i);
        return;
    }
    constexpr std::size_t K = 4;
    T g2[K] = {}, w2[K] = {}, d2[K] = {};
    bits_of<T> gm[K] = {}, wm[K] = {}, dm[K] = {};
    auto one = [&](std::size_t i, std::size_t k) {
        const T old = p.value[i], g = p.grad[i];
        const T now = p.trainable ? update(i) : old;
        p.value[i] = now;
        const T d = now - old;
        g2[k] += g * g;
        w2[k] += old * old;
        d2[k] += d * d;
        gm[k] = std::max(gm[k], magnitude_bits(g));
        wm[k] = std::max(wm[k], magnitude_bits(old));
        dm[k] = std::max(dm[k], magnitude_bits(d));
    };
    std::size_t i = 0;
    for (; i + K <= p.size; i += K)
        for (std::size_t k = 0; k < K; ++k) one(i + k, k);
    for (std::size_t k = 0; i < p.size; ++i, ++k) one(i, k);
    for (std::size_t k = 1; k < K; ++k) {
        g2[0] += g2[k]; w2[0] += w2[k]; d2[0] += d2[k];
        gm[0] = std::max(gm[0], gm[k]); wm[0] = std::max(wm[0], wm[k]); dm[0] = std::max(dm[0], dm[k]);
    }
    *stats = {double(g2[0]), from_magnitude_bits<T>(gm[0]), double(w2[0]), from_magnitude_bits<T>(wm[0]),
              double(d2[0]), from_magnitude_bits<T>(dm[0])};
}

}  // namespace detail

template <class Opt, class T>
class optimizer_state;

template <class T>
class optimizer_state<sgd, T> {
public:
    explicit optimizer_state(sgd o = {}) : opt_(o) {}
    void step(const std::vector<param_ref<T>>& params, std::vector<tensor_update>* stats = nullptr);
    const sgd& settings() const { return opt_; }

private:
    sgd opt_;
    std::vector<std::vector<T>> velocity_;
};

template <class T>
class optimizer_state<adam, T> {
public:
    explicit optimizer_state(adam o = {}) : opt_(o) {}
    void step(const std::vector<param_ref<T>>& params, std::vector<tensor_update>* stats = nullptr);
    const adam& settings() const { return opt_; }

private:
    adam opt_;
    std::vector<std::vector<T>> m_, v_;
    long t_ = 0;
};

// The steps, out of line. Adam's is compiled once, in the library, at float and double (src/adam.cpp).
template <class T>
void optimizer_state<sgd, T>::step(const std::vector<param_ref<T>>& params, std::vector<tensor_update>* stats) {
    if (velocity_.size() != params.size()) velocity_.assign(params.size(), {});
    if (stats) stats->resize(params.size());
    const T wd = static_cast<T>(opt_.weight_decay), mu = static_cast<T>(opt_.momentum);
    for (std::size_t p = 0; p < params.size(); ++p) {
        const auto& pr = params[p];
        const T lr = static_cast<T>(opt_.lr * pr.lr_scale);
        auto& v = velocity_[p];
        if (opt_.momentum != 0 && v.size() != pr.size) v.assign(pr.size, T(0));
        detail::apply_update(pr, stats ? &(*stats)[p] : nullptr, [&](std::size_t i) {
            T g = pr.grad[i] + wd * pr.value[i];
            if (opt_.momentum != 0) g = v[i] = mu * v[i] + g;
            return pr.value[i] - lr * g;
        });
    }
}
template <class T>
void optimizer_state<adam, T>::step(const std::vector<param_ref<T>>& params, std::vector<tensor_update>* stats) {
    if (m_.size() != params.size()) {
        m_.assign(params.size(), {});
        v_.assign(params.size(), {});
    }
    if (stats) stats->resize(params.size());
    ++t_;
    const double c1 = 1.0 - std::pow(opt_.beta1, static_cast<double>(t_));
    const double c2 = 1.0 - std::pow(opt_.beta2, static_cast<double>(t_));
    for (std::size_t p = 0; p < params.size(); ++p) {
        const auto& pr = params[p];
        auto& m = m_[p];
        auto& v = v_[p];
        if (m.size() != pr.size) {
            m.assign(pr.size, T(0));
            v.assign(pr.size, T(0));
        }
        // Bias corrections folded into the step size and epsilon.
        const detail::adam_coefficients k{opt_.beta1, opt_.beta2, opt_.lr * pr.lr_scale * std::sqrt(c2) / c1,
                                          opt_.eps * std::sqrt(c2), opt_.lr * pr.lr_scale * opt_.weight_decay};
        detail::adam_update(pr.value, pr.grad, m.data(), v.data(), pr.size, pr.trainable, k,
                            stats ? &(*stats)[p] : nullptr);
    }
}
// Adam's arithmetic is a kernel of the library already; SGD's loop stays in the user's
// translation unit, compiled at its optimisation level (at the library's -O2 it ran scalar:
// the W3 and W6 steps lost 20-30%).
extern template class optimizer_state<adam, float>;
extern template class optimizer_state<adam, double>;

// An optimiser is a settings type with an optimizer_state: checked where one is given.
#define NNP_DETAIL_UNKNOWN_OPTIMISER_TEXT                                                        \
    "nnprobe: this optimiser has no optimizer_state<Opt, T>: use nnp::sgd{...} or "             \
    "nnp::adam{...}, or specialise nnp::optimizer_state<YourOptimiser, T> (step(params, stats))"
namespace detail {
template <class Opt>
concept known_optimiser = requires { sizeof(optimizer_state<Opt, float>); };
template <class Opt>
struct unknown_optimiser {
    static constexpr bool value = false;
};
}  // namespace detail

}  // namespace nnp

#pragma once
// Optimisers, as plain settings (`adam{.lr = 1e-2}`) plus a state that updates a model's
// parameter views in place. Frozen nodes are skipped; `lr_scale` multiplies the rate.
#include <cmath>
#include <vector>

#include "model.hpp"

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

template <class Opt, class T>
class optimizer_state;

template <class T>
class optimizer_state<sgd, T> {
public:
    explicit optimizer_state(sgd o = {}) : opt_(o) {}
    void step(const std::vector<param_ref<T>>& params) {
        if (velocity_.size() != params.size()) velocity_.assign(params.size(), {});
        for (std::size_t p = 0; p < params.size(); ++p) {
            const auto& pr = params[p];
            if (!pr.trainable) continue;
            const T lr = static_cast<T>(opt_.lr * pr.lr_scale);
            const T wd = static_cast<T>(opt_.weight_decay), mu = static_cast<T>(opt_.momentum);
            auto& v = velocity_[p];
            if (opt_.momentum != 0 && v.size() != pr.size) v.assign(pr.size, T(0));
            for (std::size_t i = 0; i < pr.size; ++i) {
                T g = pr.grad[i] + wd * pr.value[i];
                if (opt_.momentum != 0) g = v[i] = mu * v[i] + g;
                pr.value[i] -= lr * g;
            }
        }
    }
    const sgd& settings() const { return opt_; }

private:
    sgd opt_;
    std::vector<std::vector<T>> velocity_;
};

template <class T>
class optimizer_state<adam, T> {
public:
    explicit optimizer_state(adam o = {}) : opt_(o) {}
    void step(const std::vector<param_ref<T>>& params) {
        if (m_.size() != params.size()) {
            m_.assign(params.size(), {});
            v_.assign(params.size(), {});
        }
        ++t_;
        const double c1 = 1.0 - std::pow(opt_.beta1, static_cast<double>(t_));
        const double c2 = 1.0 - std::pow(opt_.beta2, static_cast<double>(t_));
        const T b1 = static_cast<T>(opt_.beta1), b2 = static_cast<T>(opt_.beta2);
        for (std::size_t p = 0; p < params.size(); ++p) {
            const auto& pr = params[p];
            if (!pr.trainable) continue;
            auto& m = m_[p];
            auto& v = v_[p];
            if (m.size() != pr.size) {
                m.assign(pr.size, T(0));
                v.assign(pr.size, T(0));
            }
            // Bias corrections folded into the step size and epsilon.
            const T step = static_cast<T>(opt_.lr * pr.lr_scale * std::sqrt(c2) / c1);
            const T eps_hat = static_cast<T>(opt_.eps * std::sqrt(c2));
            const T decay = static_cast<T>(opt_.lr * pr.lr_scale * opt_.weight_decay);
            for (std::size_t i = 0; i < pr.size; ++i) {
                const T g = pr.grad[i];
                m[i] = b1 * m[i] + (T(1) - b1) * g;
                v[i] = b2 * v[i] + (T(1) - b2) * g * g;
                pr.value[i] -= step * m[i] / (std::sqrt(v[i]) + eps_hat) + decay * pr.value[i];
            }
        }
    }
    const adam& settings() const { return opt_; }

private:
    adam opt_;
    std::vector<std::vector<T>> m_, v_;
    long t_ = 0;
};

}  // namespace nnp

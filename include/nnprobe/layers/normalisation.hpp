#pragma once
// batch_norm and layer_norm, each with a learned gain and bias.
//
// batch_norm normalises each feature over the batch in training (and updates running
// statistics) and with the running statistics in evaluation: in evaluation it is an
// elementwise affine map, which is the class the static checks use. It couples the samples
// of a batch in training (`couples_batch`), which the cross-sample probe must know.
// layer_norm normalises each sample over its own features: nonlinear, no coupling.
#include <cmath>
#include <string>

#include "../layer.hpp"
#include "../tensor.hpp"

namespace nnp {

struct batch_norm_t : layer_base<batch_norm_t> {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    static constexpr bool couples_batch = true;
    double momentum = 0.1, eps = 1e-5;
    template <class In>
    using output_shape = In;
    template <class In>
    static constexpr bool accepts = In::rank == 1;
    static std::string describe() { return "batch_norm"; }

    template <class T, class In>
    struct impl {
        static constexpr std::size_t n = In::size;
        vector<T> gamma = detail::filled_vector<T>(n, T(1)), beta = detail::filled_vector<T>(n, T(0));
        vector<T> dgamma = detail::filled_vector<T>(n, T(0)), dbeta = detail::filled_vector<T>(n, T(0));
        vector<T> running_mean = detail::filled_vector<T>(n, T(0)), running_var = detail::filled_vector<T>(n, T(1));
        vector<T> inv_std = detail::filled_vector<T>(n, T(1));
        matrix<T> xhat;
        T momentum = T(0.1), eps = T(1e-5);
        bool last_training = true;

        void init(const batch_norm_t& s, const init_spec&, rng&) {
            momentum = static_cast<T>(s.momentum);
            eps = static_cast<T>(s.eps);
            gamma.fill(T(1));
            beta.fill(T(0));
            running_mean.fill(T(0));
            running_var.fill(T(1));
        }
        template <class F>
        void for_each_param(F&& f) {
            f("gamma", gamma, dgamma);
            f("beta", beta, dbeta);
        }
        void forward(const matrix<T>& x, matrix<T>& y, context& ctx) {
            const std::size_t rows = x.shape()[0];
            detail::ensure_shape(xhat, rows, n);
            last_training = ctx.training();
            for (std::size_t j = 0; j < n; ++j) {
                T mean, var;
                if (last_training) {
                    mean = 0;
                    for (std::size_t r = 0; r < rows; ++r) mean += x(r, j);
                    mean /= static_cast<T>(rows);
                    var = 0;
                    for (std::size_t r = 0; r < rows; ++r) var += (x(r, j) - mean) * (x(r, j) - mean);
                    var /= static_cast<T>(rows);
                    const T unbiased = rows > 1 ? var * static_cast<T>(rows) / static_cast<T>(rows - 1) : var;
                    running_mean(j) = (T(1) - momentum) * running_mean(j) + momentum * mean;
                    running_var(j) = (T(1) - momentum) * running_var(j) + momentum * unbiased;
                } else {
                    mean = running_mean(j);
                    var = running_var(j);
                }
                inv_std(j) = T(1) / std::sqrt(var + eps);
                for (std::size_t r = 0; r < rows; ++r) {
                    xhat(r, j) = (x(r, j) - mean) * inv_std(j);
                    y(r, j) = gamma(j) * xhat(r, j) + beta(j);
                }
            }
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            const std::size_t rows = dy.shape()[0];
            const T m = static_cast<T>(rows);
            for (std::size_t j = 0; j < n; ++j) {
                T sum_dy = 0, sum_dy_xhat = 0;
                for (std::size_t r = 0; r < rows; ++r) {
                    sum_dy += dy(r, j);
                    sum_dy_xhat += dy(r, j) * xhat(r, j);
                }
                dbeta(j) = sum_dy;
                dgamma(j) = sum_dy_xhat;
                if (!dx) continue;
                for (std::size_t r = 0; r < rows; ++r) {
                    (*dx)(r, j) = last_training
                        ? gamma(j) * inv_std(j) / m * (m * dy(r, j) - sum_dy - xhat(r, j) * sum_dy_xhat)
                        : gamma(j) * inv_std(j) * dy(r, j);
                }
            }
        }
    };
};
inline constexpr batch_norm_t batch_norm{};

struct layer_norm_t : layer_base<layer_norm_t> {
    static constexpr linearity_class linearity = linearity_class::nonlinear;
    double eps = 1e-5;
    template <class In>
    using output_shape = In;
    template <class In>
    static constexpr bool accepts = In::rank == 1;
    static std::string describe() { return "layer_norm"; }

    template <class T, class In>
    struct impl {
        static constexpr std::size_t n = In::size;
        vector<T> gain = detail::filled_vector<T>(n, T(1)), bias = detail::filled_vector<T>(n, T(0));
        vector<T> dgain = detail::filled_vector<T>(n, T(0)), dbias = detail::filled_vector<T>(n, T(0));
        matrix<T> xhat;
        vector<T> inv_std;
        T eps = T(1e-5);

        void init(const layer_norm_t& s, const init_spec&, rng&) {
            eps = static_cast<T>(s.eps);
            gain.fill(T(1));
            bias.fill(T(0));
        }
        template <class F>
        void for_each_param(F&& f) {
            f("gain", gain, dgain);
            f("bias", bias, dbias);
        }
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            const std::size_t rows = x.shape()[0];
            detail::ensure_shape(xhat, rows, n);
            if (inv_std.size() != rows) inv_std.resize({rows});
            for (std::size_t r = 0; r < rows; ++r) {
                T mean = 0, var = 0;
                for (std::size_t j = 0; j < n; ++j) mean += x(r, j);
                mean /= static_cast<T>(n);
                for (std::size_t j = 0; j < n; ++j) var += (x(r, j) - mean) * (x(r, j) - mean);
                var /= static_cast<T>(n);
                inv_std(r) = T(1) / std::sqrt(var + eps);
                for (std::size_t j = 0; j < n; ++j) {
                    xhat(r, j) = (x(r, j) - mean) * inv_std(r);
                    y(r, j) = gain(j) * xhat(r, j) + bias(j);
                }
            }
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            const std::size_t rows = dy.shape()[0];
            dgain.fill(T(0));
            dbias.fill(T(0));
            const T d = static_cast<T>(n);
            for (std::size_t r = 0; r < rows; ++r) {
                T s1 = 0, s2 = 0;  // sums of dxhat and dxhat * xhat over the features
                for (std::size_t j = 0; j < n; ++j) {
                    dgain(j) += dy(r, j) * xhat(r, j);
                    dbias(j) += dy(r, j);
                    const T g = dy(r, j) * gain(j);
                    s1 += g;
                    s2 += g * xhat(r, j);
                }
                if (!dx) continue;
                for (std::size_t j = 0; j < n; ++j)
                    (*dx)(r, j) = inv_std(r) / d * (d * dy(r, j) * gain(j) - s1 - xhat(r, j) * s2);
            }
        }
    };
};
inline constexpr layer_norm_t layer_norm{};

}  // namespace nnp

#pragma once
// batch_norm and layer_norm, each with a learned gain and bias.
//
// batch_norm normalises each feature over the batch in training (and updates running
// statistics) and with the running statistics in evaluation: in evaluation it is an
// elementwise affine map, which is the class the static checks use. It couples the samples
// of a batch in training (`couples_batch`), which the cross-sample probe must know. With
// `fixed_statistics` set it normalises with its running statistics in training too (no
// coupling, no update of them): the overfits probe sets it, with running statistics
// recomputed from the whole subset before each step, to take away the noise that batch
// statistics add, as it takes dropout away.
// layer_norm normalises each sample over its own features: nonlinear, no coupling.
#include <algorithm>
#include <cmath>
#include <string>

#include "../layer.hpp"
#include "../sequence.hpp"
#include "../tensor.hpp"

namespace nnp {

struct batch_norm_t : layer_base<batch_norm_t> {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    static constexpr bool couples_batch = true;
    double momentum = 0.1, eps = 1e-5;
    template <class In>
    using output_shape = In;
    // Features (rank 1) or C x H x W images (rank 3): one statistic per channel, over the
    // batch and the image's positions (PyTorch's BatchNorm1d / BatchNorm2d).
    template <class In>
    static constexpr bool accepts = In::rank == 1 || In::rank == 3;
    static std::string describe() { return "batch_norm"; }

    template <class T, class In>
    struct impl {
        static constexpr std::size_t n = In::rank == 3 ? In::dims[0] : In::size;  // channels
        static constexpr std::size_t positions = In::size / n;  // per channel and sample
        vector<T> gamma = detail::filled_vector<T>(n, T(1)), beta = detail::filled_vector<T>(n, T(0));
        vector<T> dgamma = detail::filled_vector<T>(n, T(0)), dbeta = detail::filled_vector<T>(n, T(0));
        vector<T> running_mean = detail::filled_vector<T>(n, T(0)), running_var = detail::filled_vector<T>(n, T(1));
        vector<T> inv_std = detail::filled_vector<T>(n, T(1));
        matrix<T> xhat;
        T momentum = T(0.1), eps = T(1e-5);
        bool last_training = true;
        bool fixed_statistics = false;

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
        // Calls f(pointer to the channel's first entry of sample r) for every sample; the
        // channel's entries are then `positions` consecutive values.
        template <class P, class F>
        static void each_block(P* base, std::size_t rows, std::size_t j, F&& f) {
            for (std::size_t r = 0; r < rows; ++r) f(base + r * In::size + j * positions);
        }
        void forward(const matrix<T>& x, matrix<T>& y, context& ctx) {
            const std::size_t rows = x.shape()[0];
            detail::ensure_shape(xhat, rows, In::size);
            last_training = ctx.training() && !fixed_statistics;
            const T count = static_cast<T>(rows * positions);
            for (std::size_t j = 0; j < n; ++j) {
                T mean, var;
                if (last_training) {
                    mean = 0;
                    each_block(x.data(), rows, j, [&](const T* p) {
                        for (std::size_t k = 0; k < positions; ++k) mean += p[k];
                    });
                    mean /= count;
                    var = 0;
                    each_block(x.data(), rows, j, [&](const T* p) {
                        for (std::size_t k = 0; k < positions; ++k) var += (p[k] - mean) * (p[k] - mean);
                    });
                    var /= count;
                    const std::size_t m = rows * positions;
                    const T unbiased = m > 1 ? var * count / static_cast<T>(m - 1) : var;
                    running_mean(j) = (T(1) - momentum) * running_mean(j) + momentum * mean;
                    running_var(j) = (T(1) - momentum) * running_var(j) + momentum * unbiased;
                } else {
                    mean = running_mean(j);
                    var = running_var(j);
                }
                const T is = inv_std(j) = T(1) / std::sqrt(var + eps);
                const T g = gamma(j), b = beta(j);
                for (std::size_t r = 0; r < rows; ++r) {
                    const std::size_t at = r * In::size + j * positions;
                    const T* px = x.data() + at;
                    T* ph = xhat.data() + at;
                    T* py = y.data() + at;
                    for (std::size_t k = 0; k < positions; ++k) {
                        ph[k] = (px[k] - mean) * is;
                        py[k] = g * ph[k] + b;
                    }
                }
            }
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            const std::size_t rows = dy.shape()[0];
            const T m = static_cast<T>(rows * positions);
            for (std::size_t j = 0; j < n; ++j) {
                T sum_dy = 0, sum_dy_xhat = 0;
                for (std::size_t r = 0; r < rows; ++r) {
                    const std::size_t at = r * In::size + j * positions;
                    const T *pd = dy.data() + at, *ph = xhat.data() + at;
                    for (std::size_t k = 0; k < positions; ++k) {
                        sum_dy += pd[k];
                        sum_dy_xhat += pd[k] * ph[k];
                    }
                }
                dbeta(j) = sum_dy;
                dgamma(j) = sum_dy_xhat;
                if (!dx) continue;
                const T scale = gamma(j) * inv_std(j);
                for (std::size_t r = 0; r < rows; ++r) {
                    const std::size_t at = r * In::size + j * positions;
                    const T *pd = dy.data() + at, *ph = xhat.data() + at;
                    T* pdx = dx->data() + at;
                    for (std::size_t k = 0; k < positions; ++k)
                        pdx[k] = last_training ? scale / m * (m * pd[k] - sum_dy - ph[k] * sum_dy_xhat)
                                               : scale * pd[k];
                }
            }
        }
    };
};
inline constexpr batch_norm_t batch_norm{};

namespace detail {
// layer_norm's loops over run-time sizes, compiled once in src/layer_kernels.cpp at float and
// double: rows of n features; forward keeps xhat and 1 / std per row for backward, which sets
// dgain and dbias and, when dx, the input's gradient.
template <class T>
void layer_norm_forward(std::size_t rows, std::size_t n, T eps, const T* x, const T* gain, const T* bias, T* xhat,
                        T* inv_std, T* y);
template <class T>
void layer_norm_backward(std::size_t rows, std::size_t n, const T* dy, const T* xhat, const T* gain,
                         const T* inv_std, T* dgain, T* dbias, T* dx);
}  // namespace detail

struct layer_norm_t : layer_base<layer_norm_t> {
    static constexpr linearity_class linearity = linearity_class::nonlinear;
    double eps = 1e-5;
    template <class In>
    using output_shape = In;
    template <class In>
    static constexpr bool accepts = In::rank == 1 || detail::is_sequence<In>;
    static std::string describe() { return "layer_norm"; }

    // Normalises each row of features: a sample, or each position of a sequence.
    template <class T, class In>
    struct impl {
        static constexpr std::size_t n = detail::features_per_row<In>();
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
        // The loops are out of line (src/layer_kernels.cpp, compiled for the widest vectors):
        // each row's sums add its features in order, so a row's bits do not depend on the others.
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            const std::size_t rows = x.size() / n;
            detail::ensure_shape(xhat, rows, n);
            if (inv_std.size() != rows) inv_std.resize({rows});
            detail::layer_norm_forward<T>(rows, n, eps, x.data(), gain.data(), bias.data(), xhat.data(),
                                          inv_std.data(), y.data());
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            detail::layer_norm_backward<T>(dy.size() / n, n, dy.data(), xhat.data(), gain.data(), inv_std.data(),
                                           dgain.data(), dbias.data(), dx ? dx->data() : nullptr);
        }
    };
};
inline constexpr layer_norm_t layer_norm{};

}  // namespace nnp

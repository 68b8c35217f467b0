#pragma once
// A zoo of real pipeline bugs, written against the public stage and layer concepts exactly
// as a user would write them. The probes' own tests and the demo inject them into healthy
// pipelines; use them to prove that your suite catches what it should.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <nnprobe/pipeline.hpp>
#include <nnprobe/layers/normalisation.hpp>

namespace nnp::bugs {

// Bug class 1: the batcher shuffles the inputs but takes the labels in data-set order.
struct misaligned_batcher {
    template <class DS>
    void operator()(const DS& ds, std::size_t step, seed s, batch_of<DS>& out) const {
        constexpr std::size_t w = DS::features_type::size;
        std::vector<std::size_t> order(ds.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        rng(s).fork(step).shuffle(order.begin(), order.end());
        out.resize(ds.size());
        for (std::size_t i = 0; i < ds.size(); ++i) {
            std::copy_n(ds.x.data() + order[i] * w, w, out.x.data() + i * w);
            out.y[i] = ds.y[i];  // BUG: should be ds.y[order[i]]
        }
    }
};

// Bug class 1: labels taken from the previous batch (an off-by-one between a loader's feature
// and label buffers): mini-batches reshuffled every epoch, batch k's inputs with batch k-1's
// labels. Each label still belongs to the data set, so the loss does not look broken.
struct previous_labels {
    std::size_t size = 8;
    template <class DS>
    void operator()(const DS& ds, std::size_t step, seed s, batch_of<DS>& out) const {
        const shuffled_batches batches{size};
        batches(ds, step, s, out);
        if (step == 0) return;  // no batch before the first
        batch_of<DS> before;
        batches(ds, step - 1, s, before);
        out.y = before.y;  // BUG: the labels of batch k - 1
    }
};

// Bug class 1: outputs gathered in the wrong order: meant to undo a reordering, it reverses
// the rows of every batch (a no-op for one sample, so inference on single samples looks fine).
struct reversed_gather {
    void operator()(std::size_t rows, std::vector<std::size_t>& order) const {
        order.resize(rows);
        for (std::size_t i = 0; i < rows; ++i) order[i] = rows - 1 - i;  // BUG
    }
};

// Bug class 2: a feature mask meant for the columns, applied to the rows (samples).
struct wrong_axis_mask {
    void operator()(matrix<float>& x) const {
        const std::size_t rows = x.shape()[0], cols = x.shape()[1];
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t c = 0; c < cols; ++c)
                if (r % 4 == 3) x(r, c) = 0;  // BUG: meant `c % 4 == 3`
    }
};

// Bug class 2: a mask that zeroes all the data (the drop probability used as the keep one).
struct zeroing_mask {
    void operator()(matrix<float>& x) const {
        for (auto& v : x) v *= 0.0f;
    }
};

// Bug class 5: a layer added to the network but bypassed by its own forward pass.
struct bypassed_scale : layer_base<bypassed_scale> {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    template <class In>
    using output_shape = In;
    static std::string describe() { return "bypassed_scale"; }
    template <class T, class In>
    struct impl {
        vector<T> gain = detail::filled_vector<T>(In::size, T(1)), dgain = detail::filled_vector<T>(In::size, T(0));
        template <class F>
        void for_each_param(F&& f) { f("gain", gain, dgain); }
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            detail::copy_into(y, x);  // BUG: should be y = x * gain
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx, context&) {
            if (dx) detail::copy_into(*dx, dy);
            dgain.fill(T(0));  // consistent with the forward: the gain has no effect
        }
    };
};

// Bug class 8: a centring layer that subtracts the batch mean in evaluation too.
struct batch_centre {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    static constexpr bool couples_batch = true;
    template <class In>
    using output_shape = In;
    static std::string describe() { return "batch_centre"; }
    template <class T, class In>
    struct impl {
        void forward(const matrix<T>& x, matrix<T>& y, context&) {  // BUG: ignores the mode
            centre(x, y);
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx, context&) {
            if (dx) centre(dy, *dx);  // centring is linear and self-adjoint
        }
        static void centre(const matrix<T>& a, matrix<T>& b) {
            const std::size_t rows = a.shape()[0], cols = a.shape()[1];
            for (std::size_t c = 0; c < cols; ++c) {
                T m = 0;
                for (std::size_t r = 0; r < rows; ++r) m += a(r, c);
                m /= static_cast<T>(rows);
                for (std::size_t r = 0; r < rows; ++r) b(r, c) = a(r, c) - m;
            }
        }
    };
};

// Bug class 2 on images: meant to turn rows stored H x W x C into the C x H x W the network
// takes, it permutes the axes as (C, W, H): every image is transposed. Shapes still fit.
template <std::size_t C, std::size_t H, std::size_t W>
struct hwc_read_as_cwh {
    void operator()(matrix<float>& x) const {
        std::vector<float> img(C * H * W);
        for (std::size_t r = 0; r < x.shape()[0]; ++r) {
            float* row = x.data() + r * img.size();
            std::copy(row, row + img.size(), img.begin());
            for (std::size_t c = 0; c < C; ++c)
                for (std::size_t h = 0; h < H; ++h)
                    for (std::size_t w = 0; w < W; ++w)
                        row[(c * H + h) * W + w] = img[(w * H + h) * C + c];  // BUG: (h * W + w) * C + c
        }
    }
};

// Bug class 1 inside the network: a reshape before the dense head that reads the batch's
// buffer as features x samples, mixing the batch axis with the feature axis.
struct batch_mixing_reshape {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    template <class In>
    using output_shape = In;
    static std::string describe() { return "batch_mixing_reshape"; }
    template <class T, class In>
    struct impl {
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            const std::size_t n = x.shape()[0], f = x.shape()[1];
            for (std::size_t r = 0; r < n; ++r)
                for (std::size_t j = 0; j < f; ++j) y.data()[r * f + j] = x.data()[j * n + r];  // BUG
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx, context&) {
            if (!dx) return;
            const std::size_t n = dy.shape()[0], f = dy.shape()[1];
            for (std::size_t r = 0; r < n; ++r)
                for (std::size_t j = 0; j < f; ++j) dx->data()[j * n + r] = dy.data()[r * f + j];
        }
    };
};

// Bug class 8 on images: a batch norm that keeps normalising with the batch's statistics in
// evaluation mode.
struct batch_norm_in_train_mode : batch_norm_t {
    static std::string describe() { return "batch_norm_in_train_mode"; }
    template <class T, class In>
    struct impl : batch_norm_t::impl<T, In> {
        void forward(const matrix<T>& x, matrix<T>& y, context& ctx) {
            context always_train = ctx;
            always_train.pass = mode::train;  // BUG: ignores the mode
            batch_norm_t::impl<T, In>::forward(x, y, always_train);
        }
    };
};

// Bug class 9: a batcher that counts its calls in a static to walk through the epochs: the
// count carries over from one run to the next, so two runs with one seed see other batches.
struct call_counting_batcher {
    std::size_t size = 8;
    template <class DS>
    void operator()(const DS& ds, std::size_t, seed s, batch_of<DS>& out) const {
        static std::size_t calls = 0;  // BUG: should use the step it is given
        shuffled_batches{size}(ds, calls++, s, out);
    }
};

// Bug class 9: the same with a mutable member: each copy of the pipeline carries the count on.
struct epoch_counting_batcher {
    std::size_t size = 8;
    mutable std::size_t calls = 0;  // BUG: state kept between calls and runs
    template <class DS>
    void operator()(const DS& ds, std::size_t, seed s, batch_of<DS>& out) const {
        shuffled_batches{size}(ds, calls++, s, out);
    }
};

// Bug class 9: noise augmentation from an unseeded generator.
struct unseeded_noise {
    float scale = 0.01f;
    void operator()(matrix<float>& x) const {
        std::mt19937 gen{std::random_device{}()};  // BUG: not drawn from the run's seed
        std::normal_distribution<float> noise(0.0f, scale);
        for (auto& v : x) v += noise(gen);
    }
};

// Bug class 9 in a layer: a user dropout that draws its mask from std::random_device instead
// of the pass's seeded generator (ctx.random).
struct unseeded_dropout {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    template <class In>
    using output_shape = In;
    static std::string describe() { return "unseeded_dropout"; }
    template <class T, class In>
    struct impl {
        matrix<T> mask;
        void forward(const matrix<T>& x, matrix<T>& y, context& ctx) {
            detail::ensure_shape(mask, x.shape()[0], x.shape()[1]);
            std::mt19937 gen{std::random_device{}()};  // BUG: should use *ctx.random
            std::bernoulli_distribution drop(0.1);
            for (auto& m : mask) m = ctx.training() && drop(gen) ? T(0) : T(ctx.training() ? 1 / 0.9 : 1);
            detail::multiply_into(y, x, mask);
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx, context&) {
            if (dx) detail::multiply_into(*dx, dy, mask);
        }
    };
};

// Bug class 9 in an initialisation: a learned gain drawn from a generator with a fixed seed
// of its own, ignoring the one init() is handed: every seed starts from the same gains.
struct fixed_seed_gain : layer_base<fixed_seed_gain> {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    template <class In>
    using output_shape = In;
    static std::string describe() { return "fixed_seed_gain"; }
    template <class T, class In>
    struct impl {
        vector<T> gain = detail::filled_vector<T>(In::size, T(1)), dgain = detail::filled_vector<T>(In::size, T(0));
        template <class F>
        void for_each_param(F&& f) { f("gain", gain, dgain); }
        template <class Spec>
        void init(const Spec&, const init_spec&, rng&) {
            rng own(seed{42});  // BUG: should draw from the rng it is handed
            for (auto& g : gain) g = static_cast<T>(1 + 0.1 * own.normal());
        }
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            for (std::size_t r = 0; r < x.shape()[0]; ++r)
                for (std::size_t j = 0; j < In::size; ++j) y(r, j) = gain(j) * x(r, j);
        }
        void backward(const matrix<T>& x, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx, context&) {
            dgain.fill(T(0));
            for (std::size_t r = 0; r < x.shape()[0]; ++r)
                for (std::size_t j = 0; j < In::size; ++j) {
                    dgain(j) += dy(r, j) * x(r, j);
                    if (dx) (*dx)(r, j) = dy(r, j) * gain(j);
                }
        }
    };
};

// Bug class 1 in training: a layer that centres each feature over the batch in training
// (as batch norm does) without declaring batch coupling.
struct undeclared_batch_centre {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    template <class In>
    using output_shape = In;
    static std::string describe() { return "undeclared_batch_centre"; }
    template <class T, class In>
    struct impl {
        bool centred = false;
        void forward(const matrix<T>& x, matrix<T>& y, context& ctx) {
            centred = ctx.training();
            if (centred) batch_centre::impl<T, In>::centre(x, y);  // BUG: mixes, undeclared
            else detail::copy_into(y, x);
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx, context&) {
            if (!dx) return;
            if (centred) batch_centre::impl<T, In>::centre(dy, *dx);
            else detail::copy_into(*dx, dy);
        }
    };
};

// Bug class 13: a learned per-feature divisor initialised to zero (meant one): the forward
// divides by zero.
struct zero_divisor : layer_base<zero_divisor> {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    template <class In>
    using output_shape = In;
    static std::string describe() { return "zero_divisor"; }
    template <class T, class In>
    struct impl {
        vector<T> divisor = detail::filled_vector<T>(In::size, T(0));  // BUG: should start at 1
        vector<T> ddivisor = detail::filled_vector<T>(In::size, T(0));
        template <class F>
        void for_each_param(F&& f) { f("divisor", divisor, ddivisor); }
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            for (std::size_t r = 0; r < x.shape()[0]; ++r)
                for (std::size_t j = 0; j < In::size; ++j) y(r, j) = x(r, j) / divisor(j);
        }
        void backward(const matrix<T>& x, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx, context&) {
            ddivisor.fill(T(0));
            for (std::size_t r = 0; r < x.shape()[0]; ++r)
                for (std::size_t j = 0; j < In::size; ++j) {
                    ddivisor(j) -= dy(r, j) * x(r, j) / (divisor(j) * divisor(j));
                    if (dx) (*dx)(r, j) = dy(r, j) / divisor(j);
                }
        }
    };
};

// Bug class 13 in a backward: square roots of relu units; the derivative 1 / (2 sqrt(x))
// divides by zero at every unit the relu switched off.
struct sqrt_units {
    static constexpr linearity_class linearity = linearity_class::nonlinear;
    template <class In>
    using output_shape = In;
    static std::string describe() { return "sqrt_units"; }
    template <class T, class In>
    struct impl {
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            for (std::size_t i = 0; i < x.size(); ++i) y.data()[i] = std::sqrt(x.data()[i]);
        }
        void backward(const matrix<T>&, const matrix<T>& y, const matrix<T>& dy, matrix<T>* dx, context&) {
            if (dx)
                for (std::size_t i = 0; i < y.size(); ++i) dx->data()[i] = dy.data()[i] / (2 * y.data()[i]);  // BUG at 0
        }
    };
};

// Bug class 13 in a loss: outputs read as probabilities by normalising their positive parts;
// a class whose output is not positive has probability 0, and the loss takes its log.
struct relu_normalised_nll {
    static constexpr bool is_classification = true;
    static constexpr const char* name = "relu_normalised_nll";
    template <class T>
    T operator()(const matrix<T>& out, const std::vector<int>& y, matrix<T>& grad) const {
        const std::size_t n = out.shape()[0], c = out.shape()[1];
        detail::ensure_shape(grad, n, c);
        double total = 0;
        for (std::size_t r = 0; r < n; ++r) {
            T s = 0;
            for (std::size_t j = 0; j < c; ++j) s += std::max(out(r, j), T(0));
            const T p = std::max(out(r, y[r]), T(0));
            total += std::log(double(s)) - std::log(double(p));  // BUG: log(0) when p is 0
            for (std::size_t j = 0; j < c; ++j)
                grad(r, j) = (out(r, j) > 0 ? T(1) : T(0)) * (T(1) / s - (int(j) == y[r] ? T(1) / p : T(0))) /
                             static_cast<T>(n);
        }
        return static_cast<T>(total / static_cast<double>(n));
    }
};

}  // namespace nnp::bugs

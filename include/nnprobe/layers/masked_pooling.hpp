#pragma once
// Pooling over the positions of a sequence, T x D -> D:
//   masked_mean_pool      mean over each sample's real positions (reads the padding mask)
//   masked_max_pool       per feature, the largest value over the real positions (the
//                         first one on ties, as torch.max)
//   last_token_pool       each sample's last real position (reads the padding mask)
//   mean_over_positions   mean over all T positions, padding included: on a padded sequence
//                         it is a compile error (C8) unless the sequence is marked padding_ok
//   padding_ok            the explicit opt-out of C8: every sample of a batch is as long as
//                         the batch, or counting the padding is intended
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "../error.hpp"
#include "../layer.hpp"
#include "../sequence.hpp"
#include "../tensor.hpp"

namespace nnp {

namespace detail {
// The batch's mask, checked against the layer's input (rows x T * width).
inline const padding_mask& mask_of(const context& ctx, std::size_t rows, std::size_t length,
                                   const char* layer) {
    if (!ctx.mask || ctx.mask->rows() != rows || ctx.mask->length() != length)
        throw error(fmt::format("nnprobe: {}: needs the padding mask of its {} x {} batch (run "
                                "the model with forward(tokens, mask))",
                                layer, rows, length));
    return *ctx.mask;
}

template <class Derived>
struct sequence_pool_base {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    static constexpr bool reduces_positions = true;
    template <class In>
    static constexpr bool accepts = is_sequence<In>;
    template <class In>
    using output_shape = shape<In::width>;
};
}  // namespace detail

struct masked_mean_pool_t : detail::sequence_pool_base<masked_mean_pool_t> {
    static constexpr bool uses_mask = true;
    static std::string describe() { return "masked_mean_pool"; }
    template <class T, class In>
    struct impl {
        static constexpr std::size_t D = In::width;
        void forward(const matrix<T>& x, matrix<T>& y, context& ctx) {
            const std::size_t rows = x.shape()[0], len = x.shape()[1] / D;
            const padding_mask& m = detail::mask_of(ctx, rows, len, "masked_mean_pool");
            for (std::size_t r = 0; r < rows; ++r) {
                const T* px = x.data() + r * len * D;
                T* py = y.data() + r * D;
                std::fill(py, py + D, T(0));
                const std::size_t n = m.length_of(r);
                for (std::size_t t = 0; t < n; ++t)
                    for (std::size_t j = 0; j < D; ++j) py[j] += px[t * D + j];
                for (std::size_t j = 0; j < D; ++j) py[j] /= static_cast<T>(n);
            }
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context& ctx) {
            if (!dx) return;
            const std::size_t rows = dy.shape()[0], len = dx->shape()[1] / D;
            const padding_mask& m = detail::mask_of(ctx, rows, len, "masked_mean_pool");
            for (std::size_t r = 0; r < rows; ++r) {
                const T* pd = dy.data() + r * D;
                T* px = dx->data() + r * len * D;
                const std::size_t n = m.length_of(r);
                for (std::size_t j = 0; j < D; ++j) px[j] = pd[j] / static_cast<T>(n);
                for (std::size_t t = 1; t < n; ++t) std::copy(px, px + D, px + t * D);
                std::fill(px + n * D, px + len * D, T(0));
            }
        }
    };
};
inline constexpr masked_mean_pool_t masked_mean_pool{};

struct masked_max_pool_t : detail::sequence_pool_base<masked_max_pool_t> {
    static constexpr linearity_class linearity = linearity_class::nonlinear;
    static constexpr bool uses_mask = true;
    static std::string describe() { return "masked_max_pool"; }
    template <class T, class In>
    struct impl {
        static constexpr std::size_t D = In::width;
        std::vector<std::size_t> argmax;  // per output entry: the position it took
        void forward(const matrix<T>& x, matrix<T>& y, context& ctx) {
            const std::size_t rows = x.shape()[0], len = x.shape()[1] / D;
            const padding_mask& m = detail::mask_of(ctx, rows, len, "masked_max_pool");
            argmax.assign(rows * D, 0);
            for (std::size_t r = 0; r < rows; ++r) {
                const T* px = x.data() + r * len * D;
                for (std::size_t j = 0; j < D; ++j) {
                    std::size_t best = 0;
                    for (std::size_t t = 1; t < m.length_of(r); ++t)
                        if (px[t * D + j] > px[best * D + j]) best = t;
                    argmax[r * D + j] = best;
                    y(r, j) = px[best * D + j];
                }
            }
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            if (!dx) return;
            const std::size_t rows = dy.shape()[0], len = dx->shape()[1] / D;
            dx->fill(T(0));
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t j = 0; j < D; ++j)
                    (*dx)(r, argmax[r * D + j] * D + j) = dy(r, j);
            (void)len;
        }
    };
};
inline constexpr masked_max_pool_t masked_max_pool{};

struct last_token_pool_t : detail::sequence_pool_base<last_token_pool_t> {
    static constexpr bool uses_mask = true;
    static std::string describe() { return "last_token_pool"; }
    template <class T, class In>
    struct impl {
        static constexpr std::size_t D = In::width;
        void forward(const matrix<T>& x, matrix<T>& y, context& ctx) {
            const std::size_t rows = x.shape()[0], len = x.shape()[1] / D;
            const padding_mask& m = detail::mask_of(ctx, rows, len, "last_token_pool");
            for (std::size_t r = 0; r < rows; ++r) {
                const T* px = x.data() + (r * len + m.length_of(r) - 1) * D;
                std::copy(px, px + D, y.data() + r * D);
            }
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context& ctx) {
            if (!dx) return;
            const std::size_t rows = dy.shape()[0], len = dx->shape()[1] / D;
            const padding_mask& m = detail::mask_of(ctx, rows, len, "last_token_pool");
            dx->fill(T(0));
            for (std::size_t r = 0; r < rows; ++r) {
                const T* pd = dy.data() + r * D;
                std::copy(pd, pd + D, dx->data() + (r * len + m.length_of(r) - 1) * D);
            }
        }
    };
};
inline constexpr last_token_pool_t last_token_pool{};

// A plain mean over every position: right only where no sample is padded.
struct mean_over_positions_t : detail::sequence_pool_base<mean_over_positions_t> {
    static std::string describe() { return "mean_over_positions"; }
    template <class T, class In>
    struct impl {
        static constexpr std::size_t D = In::width;
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            const std::size_t rows = x.shape()[0], len = x.shape()[1] / D;
            for (std::size_t r = 0; r < rows; ++r) {
                const T* px = x.data() + r * len * D;
                T* py = y.data() + r * D;
                std::fill(py, py + D, T(0));
                for (std::size_t t = 0; t < len; ++t)
                    for (std::size_t j = 0; j < D; ++j) py[j] += px[t * D + j];
                for (std::size_t j = 0; j < D; ++j) py[j] /= static_cast<T>(len);
            }
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            if (!dx) return;
            const std::size_t rows = dy.shape()[0], len = dx->shape()[1] / D;
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t t = 0; t < len; ++t)
                    for (std::size_t j = 0; j < D; ++j)
                        (*dx)(r, t * D + j) = dy(r, j) / static_cast<T>(len);
        }
    };
};
inline constexpr mean_over_positions_t mean_over_positions{};

namespace detail {
template <class S>
struct unpadded;
template <std::size_t M, std::size_t D, bool P>
struct unpadded<sequence<M, D, P>> {
    using type = sequence<M, D, false>;
};
}  // namespace detail

struct padding_ok_t {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    template <class In>
    static constexpr bool accepts = detail::is_sequence<In>;
    template <class In>
    using output_shape = typename detail::unpadded<In>::type;
    static std::string describe() { return "padding_ok"; }
    template <class T, class In>
    struct impl {
        void forward(const matrix<T>& x, matrix<T>& y, context&) { detail::copy_into(y, x); }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx, context&) {
            if (dx) detail::copy_into(*dx, dy);
        }
    };
};
inline constexpr padding_ok_t padding_ok{};

}  // namespace nnp

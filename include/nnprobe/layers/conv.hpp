#pragma once
// conv2d<Out, K, options...>: a 2-D convolution (cross-correlation, as in PyTorch's Conv2d)
// of a C x H x W input with Out kernels of C x K x K, plus a bias per output channel.
//   conv2d<8, 3>                          valid: 1x8x8 -> 8x6x6
//   conv2d<8, 3, same_padding>            1x8x8 -> 8x8x8
//   conv2d<8, 3, stride<2>, padding<1>>   1x8x8 -> 8x4x4
//   conv2d<8, 3, dilation<2>>             1x8x8 -> 8x4x4
//   conv2d_no_bias<8, 3, ...>             without the bias
// The weight is stored as PyTorch's (Out, C, K, K), flattened to Out x (C*K*K). The product
// runs on window columns (im2col): one matrix product per batch forward, two backward.
#include <string>

#include "../blas.hpp"
#include "../init.hpp"
#include "../layer.hpp"
#include "../shape.hpp"
#include "../tensor.hpp"
#include "../window.hpp"

namespace nnp {

template <std::size_t Out, std::size_t K, bool Bias, class... Opts>
struct conv2d_t : layer_base<conv2d_t<Out, K, Bias, Opts...>> {
    static_assert(Out >= 1, "nnprobe: conv2d needs at least one output channel");
    static_assert(K >= 1, "nnprobe: conv2d needs a kernel of at least 1 x 1");
    using options = detail::window_options<1, Opts...>;

    static constexpr linearity_class linearity = linearity_class::affine_mixing;
    static constexpr bool uses_init = true;
    static constexpr bool takes_images = true;
    template <class In>
    using window = detail::window<In, K, options::stride_v, options::dilation_v, options::padding_v,
                                  options::same>;
    template <class In>
    using output_shape = shape<Out, window<In>::out_h, window<In>::out_w>;
    template <class In>
    static constexpr bool accepts = window<In>::fits;
    static std::string describe() {
        return (Bias ? "conv2d<" : "conv2d_no_bias<") + std::to_string(Out) + ", " +
               std::to_string(K) + "x" + std::to_string(K) + detail::window_text<1, Opts...>() + ">";
    }

    template <class T, class In>
    struct impl {
        static constexpr detail::window_dims geometry = detail::dims_of<window<In>>();
        static constexpr std::size_t patch = geometry.patch();         // C*K*K
        static constexpr std::size_t positions = geometry.positions();  // Ho*Wo
        matrix<T> w = detail::zero_matrix<T>(Out, patch), dw = detail::zero_matrix<T>(Out, patch);
        vector<T> b = detail::filled_vector<T>(Bias ? Out : 0, T(0)), db = b;
        // The product's layout: one row per output channel, one column per (sample, position),
        // so that forward copies whole rows into the output, never a transpose.
        matrix<T> col, dcol;    // patch x (rows * positions)
        matrix<T> by_channel;   // Out x (rows * positions)

        void init(const conv2d_t&, const init_spec& s, rng& r) {
            detail::initialise(w, s, patch, Out * K * K, r);
            b.fill(T(0));
        }
        template <class F>
        void for_each_param(F&& f) {
            f("weight", w, dw);
            if constexpr (Bias) f("bias", b, db);
        }
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            const std::size_t rows = x.shape()[0], columns = rows * positions;
            detail::ensure_shape(col, patch, columns);
            detail::ensure_shape(by_channel, Out, columns);
            detail::im2col<geometry>(x.data(), rows, col.data());
            detail::gemm(w, col, by_channel);
            // channel x (sample, position) -> sample x (channel, position), plus the bias.
            T* dst = y.data();
            for (std::size_t n = 0; n < rows; ++n)
                for (std::size_t o = 0; o < Out; ++o, dst += positions) {
                    const T* src = by_channel.data() + o * columns + n * positions;
                    if constexpr (Bias) {
                        const T bias = b(o);
                        for (std::size_t p = 0; p < positions; ++p) dst[p] = src[p] + bias;
                    } else {
                        std::copy(src, src + positions, dst);
                    }
                }
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            const std::size_t rows = dy.shape()[0], columns = rows * positions;
            detail::ensure_shape(by_channel, Out, columns);
            const T* src = dy.data();
            for (std::size_t n = 0; n < rows; ++n)
                for (std::size_t o = 0; o < Out; ++o, src += positions)
                    std::copy(src, src + positions, by_channel.data() + o * columns + n * positions);
            detail::gemm(by_channel, col, dw, false, true);
            if constexpr (Bias) bias_gradient(columns);
            if (!dx) return;
            detail::ensure_shape(dcol, patch, columns);
            detail::gemm(w, by_channel, dcol, true, false);
            detail::col2im<geometry>(dcol.data(), rows, dx->data());
        }
        // db(o) = the sum of channel o's row, added left to right (one chain per channel, so
        // the bits do not depend on how many channels there are); eight channels at a time
        // keep eight chains in flight.
        void bias_gradient(std::size_t columns) {
            constexpr std::size_t lanes = 8;
            std::size_t o = 0;
            for (; o + lanes <= Out; o += lanes) {
                const T* g = by_channel.data() + o * columns;
                T s[lanes] = {};
                for (std::size_t m = 0; m < columns; ++m)
                    for (std::size_t l = 0; l < lanes; ++l) s[l] += g[l * columns + m];
                for (std::size_t l = 0; l < lanes; ++l) db(o + l) = s[l];
            }
            for (; o < Out; ++o) {
                const T* g = by_channel.data() + o * columns;
                T s = 0;
                for (std::size_t m = 0; m < columns; ++m) s += g[m];
                db(o) = s;
            }
        }
    };
};

template <std::size_t Out, std::size_t K, class... Opts>
inline constexpr conv2d_t<Out, K, true, Opts...> conv2d{};
template <std::size_t Out, std::size_t K, class... Opts>
inline constexpr conv2d_t<Out, K, false, Opts...> conv2d_no_bias{};

}  // namespace nnp

#pragma once
// Pooling over C x H x W inputs, each channel on its own:
//   max_pool2d<K>, avg_pool2d<K>     K x K windows, stride K unless stride<S> is given
//                                    (as PyTorch's MaxPool2d / AvgPool2d, floor mode)
//   global_avg_pool                  C x H x W -> C, the mean of each channel
// Average pooling is an elementwise affine map (no mixing across channels), max pooling is
// nonlinear. Max pooling keeps the first maximum of each window, as PyTorch does, and passes
// a NaN on.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../layer.hpp"
#include "../shape.hpp"
#include "../tensor.hpp"
#include "../window.hpp"

namespace nnp {

namespace detail {
template <std::size_t K, class... Opts>
struct pool_base {
    static_assert(K >= 1, "nnprobe: a pooling window is at least 1 x 1");
    using options = window_options<K, Opts...>;
    static_assert(options::padding_v == 0 && !options::same && options::dilation_v == 1,
                  "nnprobe: pooling takes stride<S> as its only option");
    static constexpr bool takes_images = true;
    template <class In>
    using window = detail::window<In, K, options::stride_v, 1, 0, false>;
    template <class In>
    using output_shape = shape<In::dims[0], window<In>::out_h, window<In>::out_w>;
    template <class In>
    static constexpr bool accepts = window<In>::fits;
    static std::string text(const char* name) {
        return name + std::to_string(K) + window_text<K, Opts...>() + ">";
    }
};
}  // namespace detail

template <std::size_t K, class... Opts>
struct max_pool2d_t : detail::pool_base<K, Opts...> {
    static constexpr linearity_class linearity = linearity_class::nonlinear;
    static std::string describe() { return max_pool2d_t::text("max_pool2d<"); }

    template <class T, class In>
    struct impl {
        static constexpr detail::window_dims g = detail::dims_of<typename max_pool2d_t::template window<In>>();
        static constexpr std::size_t out_cols = g.channels * g.positions();
        std::vector<std::uint32_t> argmax;  // per output entry: the input entry it took

        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            const std::size_t rows = x.shape()[0];
            if (argmax.size() != rows * out_cols) argmax.resize(rows * out_cols);
            const std::size_t plane = g.height * g.width;
            std::uint32_t* arg = argmax.data();
            T* out = y.data();
            for (std::size_t n = 0; n < rows; ++n)
                for (std::size_t c = 0; c < g.channels; ++c) {
                    const std::size_t base = n * g.in_size() + c * plane;
                    const T* in = x.data() + base;
                    for (std::size_t oh = 0; oh < g.out_h; ++oh)
                        for (std::size_t ow = 0; ow < g.out_w; ++ow, ++out, ++arg) {
                            std::size_t best = oh * g.stride * g.width + ow * g.stride;
                            T v = -std::numeric_limits<T>::infinity();
                            for (std::size_t kh = 0; kh < g.kernel; ++kh)
                                for (std::size_t kw = 0; kw < g.kernel; ++kw) {
                                    const std::size_t i = (oh * g.stride + kh) * g.width + ow * g.stride + kw;
                                    if (in[i] > v || std::isnan(in[i])) {
                                        v = in[i];
                                        best = i;
                                        if (std::isnan(v)) goto done;
                                    }
                                }
                        done:
                            *out = in[best];
                            *arg = static_cast<std::uint32_t>(base + best - n * g.in_size());
                        }
                }
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            if (!dx) return;
            const std::size_t rows = dy.shape()[0];
            dx->fill(T(0));
            const T* d = dy.data();
            const std::uint32_t* arg = argmax.data();
            for (std::size_t n = 0; n < rows; ++n) {
                T* row = dx->data() + n * g.in_size();
                for (std::size_t j = 0; j < out_cols; ++j) row[*arg++] += *d++;
            }
        }
    };
};

template <std::size_t K, class... Opts>
struct avg_pool2d_t : detail::pool_base<K, Opts...> {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    static std::string describe() { return avg_pool2d_t::text("avg_pool2d<"); }

    template <class T, class In>
    struct impl {
        static constexpr detail::window_dims g = detail::dims_of<typename avg_pool2d_t::template window<In>>();
        static constexpr T scale = T(1) / static_cast<T>(K * K);

        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            const std::size_t planes = x.shape()[0] * g.channels, plane = g.height * g.width;
            const T* in = x.data();
            T* out = y.data();
            for (std::size_t pl = 0; pl < planes; ++pl, in += plane)
                for (std::size_t oh = 0; oh < g.out_h; ++oh)
                    for (std::size_t ow = 0; ow < g.out_w; ++ow, ++out) {
                        T s = 0;
                        for (std::size_t kh = 0; kh < K; ++kh)
                            for (std::size_t kw = 0; kw < K; ++kw)
                                s += in[(oh * g.stride + kh) * g.width + ow * g.stride + kw];
                        *out = s * scale;
                    }
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            if (!dx) return;
            dx->fill(T(0));
            const std::size_t planes = dy.shape()[0] * g.channels, plane = g.height * g.width;
            const T* d = dy.data();
            T* out = dx->data();
            for (std::size_t pl = 0; pl < planes; ++pl, out += plane)
                for (std::size_t oh = 0; oh < g.out_h; ++oh)
                    for (std::size_t ow = 0; ow < g.out_w; ++ow, ++d) {
                        const T v = *d * scale;
                        for (std::size_t kh = 0; kh < K; ++kh)
                            for (std::size_t kw = 0; kw < K; ++kw)
                                out[(oh * g.stride + kh) * g.width + ow * g.stride + kw] += v;
                    }
        }
    };
};

struct global_avg_pool_t {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    static constexpr bool takes_images = true;
    template <class In>
    static constexpr bool accepts = In::rank == 3;
    template <class In>
    using output_shape = shape<In::dims[0]>;
    static std::string describe() { return "global_avg_pool"; }

    template <class T, class In>
    struct impl {
        static constexpr std::size_t channels = In::dims[0], plane = In::size / In::dims[0];
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            const std::size_t planes = x.shape()[0] * channels;
            const T* in = x.data();
            T* out = y.data();
            for (std::size_t pl = 0; pl < planes; ++pl, in += plane) {
                T s = 0;
                for (std::size_t i = 0; i < plane; ++i) s += in[i];
                out[pl] = s / static_cast<T>(plane);
            }
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            if (!dx) return;
            const std::size_t planes = dy.shape()[0] * channels;
            const T* d = dy.data();
            T* out = dx->data();
            for (std::size_t pl = 0; pl < planes; ++pl, out += plane) {
                const T v = d[pl] / static_cast<T>(plane);
                for (std::size_t i = 0; i < plane; ++i) out[i] = v;
            }
        }
    };
};

template <std::size_t K, class... Opts>
inline constexpr max_pool2d_t<K, Opts...> max_pool2d{};
template <std::size_t K, class... Opts>
inline constexpr avg_pool2d_t<K, Opts...> avg_pool2d{};
inline constexpr global_avg_pool_t global_avg_pool{};

}  // namespace nnp

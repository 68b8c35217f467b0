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
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "../layer.hpp"
#include "../shape.hpp"
#include "../tensor.hpp"
#include "../window.hpp"

namespace nnp {

namespace detail {
// Max pooling's rule for a window scanned in order: a later entry c replaces the best b so
// far when c > b, or when c is a NaN and b is not (written without branches: it vectorises).
template <class V>
auto max_pool_takes(V c, V b) {
    return (c > b) | ((c != c) & (b == b));
}

// 2 x 2 windows at stride 2 on float, four windows at a time (GCC/Clang vector extensions):
// one output row of `n` windows from input rows `top` and `top + width`, `first` the index of
// the first window's top-left entry.
inline std::size_t max_pool_2x2_row(const float* top, std::size_t width, std::size_t n, std::uint32_t first,
                                    float* out, std::uint32_t* arg) {
    using v4f = float __attribute__((vector_size(16)));
    using v4i = std::int32_t __attribute__((vector_size(16)));
    auto load = [](const float* p) {
        v4f v;
        std::memcpy(&v, p, sizeof v);
        return v;
    };
    const v4i lane = {0, 2, 4, 6};
    const auto offset1 = static_cast<std::int32_t>(width);
    std::size_t ow = 0;
    for (; ow + 4 <= n; ow += 4) {
        const float* p = top + 2 * ow;
        const v4f a0 = load(p), a1 = load(p + 4), b0 = load(p + width), b1 = load(p + width + 4);
        v4f best = __builtin_shufflevector(a0, a1, 0, 2, 4, 6);
        v4i at = lane + static_cast<std::int32_t>(first + 2 * ow);
        const v4f later[3] = {__builtin_shufflevector(a0, a1, 1, 3, 5, 7),
                              __builtin_shufflevector(b0, b1, 0, 2, 4, 6),
                              __builtin_shufflevector(b0, b1, 1, 3, 5, 7)};
        const std::int32_t step[3] = {1, offset1, offset1 + 1};
        const v4i start = at;
        for (int k = 0; k < 3; ++k) {
            const v4i take = max_pool_takes(later[k], best);
            best = take ? later[k] : best;
            at = take ? start + step[k] : at;
        }
        std::memcpy(out + ow, &best, sizeof best);
        std::memcpy(arg + ow, &at, sizeof at);
    }
    return ow;
}

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

        // Row by row, one kernel offset at a time across the row's windows, keeping each
        // window's best so far (max_pool_takes): the first maximum, or the first NaN, as a scan
        // of each window in order finds them; done this way the loop over windows vectorises.
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            const std::size_t rows = x.shape()[0];
            if (argmax.size() != rows * out_cols) argmax.resize(rows * out_cols);
            constexpr std::size_t plane = g.height * g.width, s = g.stride, wd = g.width, ow_n = g.out_w;
            const T* in = x.data();
            T* out = y.data();
            std::uint32_t* arg = argmax.data();
            for (std::size_t pl = 0; pl < rows * g.channels; ++pl, in += plane) {
                const auto base = static_cast<std::uint32_t>((pl % g.channels) * plane);
                for (std::size_t oh = 0; oh < g.out_h; ++oh, out += ow_n, arg += ow_n) {
                    const T* top = in + oh * s * wd;
                    const auto row_first = static_cast<std::uint32_t>(base + oh * s * wd);
                    std::size_t done = 0;
                    if constexpr (std::is_same_v<T, float> && g.kernel == 2 && s == 2)
                        done = detail::max_pool_2x2_row(top, wd, ow_n, row_first, out, arg);
                    for (std::size_t ow = done; ow < ow_n; ++ow) {
                        const T* w0 = top + ow * s;
                        T best = w0[0];
                        std::uint32_t at = 0;
                        for (std::size_t kh = 0; kh < g.kernel; ++kh)
                            for (std::size_t kw = kh == 0 ? 1 : 0; kw < g.kernel; ++kw) {
                                const T c = w0[kh * wd + kw];
                                const bool take = detail::max_pool_takes(c, best);
                                best = take ? c : best;
                                at = take ? static_cast<std::uint32_t>(kh * wd + kw) : at;
                            }
                        out[ow] = best;
                        arg[ow] = row_first + static_cast<std::uint32_t>(ow * s) + at;
                    }
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

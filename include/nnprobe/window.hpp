#pragma once
// Sliding windows over C x H x W images: the options that shape them (stride, padding,
// dilation), the compile-time geometry that conv2d and the pooling layers share, and the
// copying between an image batch and its window columns (im2col) that turns a convolution
// into one matrix product.
//
// Options are types, because they change the output shape, which is part of the graph's type:
//   conv2d<16, 3, same_padding>, conv2d<8, 5, stride<2>, padding<2>>, max_pool2d<2, stride<1>>
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "shape.hpp"

namespace nnp {

template <std::size_t S>
struct stride {
    static_assert(S >= 1, "nnprobe: a stride is at least 1");
    static constexpr std::size_t value = S;
};
template <std::size_t D>
struct dilation {
    static_assert(D >= 1, "nnprobe: a dilation is at least 1");
    static constexpr std::size_t value = D;
};
// Explicit zero padding of P pixels on every side.
template <std::size_t P>
struct padding {
    static constexpr std::size_t value = P;
};
// The output as large as the input (stride 1 only, as in PyTorch); an even kernel pads one
// more pixel at the bottom and right than at the top and left, also as in PyTorch.
struct same_padding {};
// No padding (the default).
struct valid_padding {};

namespace detail {

template <class O>
inline constexpr int option_kind = 0;  // 0: not a window option
template <std::size_t S>
inline constexpr int option_kind<stride<S>> = 1;
template <std::size_t D>
inline constexpr int option_kind<dilation<D>> = 2;
template <std::size_t P>
inline constexpr int option_kind<padding<P>> = 3;
template <>
inline constexpr int option_kind<same_padding> = 3;
template <>
inline constexpr int option_kind<valid_padding> = 3;

// What a list of options says, with defaults for those it leaves out.
template <std::size_t DefaultStride, class... Opts>
struct window_options {
    static_assert(((option_kind<Opts> != 0) && ...),
                  "nnprobe: a window option is stride<S>, dilation<D>, padding<P>, same_padding "
                  "or valid_padding");
    static_assert(((option_kind<Opts> == 1) + ... + 0) <= 1, "nnprobe: stride<...> given twice");
    static_assert(((option_kind<Opts> == 2) + ... + 0) <= 1, "nnprobe: dilation<...> given twice");
    static_assert(((option_kind<Opts> == 3) + ... + 0) <= 1, "nnprobe: padding given twice");

    template <int Kind, class O>
    static constexpr std::size_t value_of(std::size_t fallback) {
        if constexpr (option_kind<O> == Kind && requires { O::value; }) return O::value;
        else return fallback;
    }
    static constexpr std::size_t stride_v = [] {
        std::size_t s = DefaultStride;
        ((s = value_of<1, Opts>(s)), ...);
        return s;
    }();
    static constexpr std::size_t dilation_v = [] {
        std::size_t d = 1;
        ((d = value_of<2, Opts>(d)), ...);
        return d;
    }();
    static constexpr std::size_t padding_v = [] {
        std::size_t p = 0;
        ((p = value_of<3, Opts>(p)), ...);
        return p;
    }();
    static constexpr bool same = (std::is_same_v<Opts, same_padding> || ...);
};

// Why a window does not fit its input (the graph turns each into a static check).
enum class window_fit { fits, not_an_image, kernel_exceeds_input, output_empty, same_needs_stride_1 };

// The geometry of a K x K window (stride S, dilation D) over input shape In, padded by
// PadLo pixels at the top and left and PadHi at the bottom and right (Same: from K and D).
template <class In, std::size_t K, std::size_t S, std::size_t D, std::size_t Pad, bool Same>
struct window {
    static constexpr bool image = In::rank == 3;
    static constexpr std::size_t channels = In::dims[0];
    static constexpr std::size_t height = image ? In::dims[image ? 1 : 0] : 1;
    static constexpr std::size_t width = image ? In::dims[image ? 2 : 0] : 1;
    static constexpr std::size_t kernel = K, stride = S, dilation = D;
    static constexpr std::size_t span = D * (K - 1) + 1;  // pixels one window covers
    static constexpr std::size_t pad_lo = Same ? (span - 1) / 2 : Pad;
    static constexpr std::size_t pad_hi = Same ? (span - 1) - (span - 1) / 2 : Pad;
    static constexpr std::size_t padded_h = height + pad_lo + pad_hi;
    static constexpr std::size_t padded_w = width + pad_lo + pad_hi;
    static constexpr window_fit fit =
        !image                                ? window_fit::not_an_image
        : Same && S != 1                      ? window_fit::same_needs_stride_1
        : K > padded_h || K > padded_w        ? window_fit::kernel_exceeds_input
        : span > padded_h || span > padded_w  ? window_fit::output_empty
                                              : window_fit::fits;
    static constexpr bool fits = fit == window_fit::fits;
    static constexpr std::size_t out_h = fits ? (padded_h - span) / S + 1 : 1;
    static constexpr std::size_t out_w = fits ? (padded_w - span) / S + 1 : 1;
};

// The same geometry at run time, for the copying loops.
struct window_dims {
    std::size_t channels, height, width, kernel, stride, dilation, pad_top, pad_left, out_h, out_w;
    constexpr std::size_t in_size() const { return channels * height * width; }
    constexpr std::size_t positions() const { return out_h * out_w; }
    constexpr std::size_t patch() const { return channels * kernel * kernel; }
};
template <class W>
constexpr window_dims dims_of() {
    return {W::channels, W::height, W::width, W::kernel, W::stride, W::dilation,
            W::pad_lo, W::pad_lo, W::out_h, W::out_w};
}

// Text for describe(): ", stride 2, pad 1, dilation 2" (only what differs from the default).
template <std::size_t DefaultStride, class... Opts>
std::string window_text() {
    using O = window_options<DefaultStride, Opts...>;
    std::string s;
    if (O::stride_v != DefaultStride) s += ", stride " + std::to_string(O::stride_v);
    if (O::same) s += ", same";
    else if (O::padding_v) s += ", pad " + std::to_string(O::padding_v);
    if (O::dilation_v != 1) s += ", dilation " + std::to_string(O::dilation_v);
    return s;
}

// A copy of N entries, N known at compile time, in 16-byte moves the compiler inlines: the rows
// im2col copies are short, and a call to memcpy per row costs more than the copy.
template <std::size_t N, class T>
void copy_short(const T* src, T* dst) {
    constexpr std::size_t chunk = 16 / sizeof(T), whole = N / chunk * chunk;
    for (std::size_t i = 0; i < whole; i += chunk) std::memcpy(dst + i, src + i, 16);
    if constexpr (N > whole) std::memcpy(dst + whole, src + whole, (N - whole) * sizeof(T));
}

// A padded geometry as an unpadded one over the input with its zero border: just tall and wide
// enough for every window (rows and columns no window reaches are left out).
template <window_dims G>
constexpr window_dims window_in_border() {
    const std::size_t span = G.dilation * (G.kernel - 1) + 1;
    const std::size_t h = std::max(G.pad_top + G.height, (G.out_h - 1) * G.stride + span);
    const std::size_t w = std::max(G.pad_left + G.width, (G.out_w - 1) * G.stride + span);
    return {G.channels, h, w, G.kernel, G.stride, G.dilation, 0, 0, G.out_h, G.out_w};
}
template <window_dims G>
inline constexpr bool needs_border = window_in_border<G>().height != G.height || window_in_border<G>().width != G.width;

// One sample, no padding: every window lies inside the input, so each (kernel offset, output
// row) is one run of out_w entries, copied whole (stride 1) or strided. `cols` points at the
// sample's first column; rows of `cols` are `row_length` apart.
template <window_dims G, class T>
void im2col_sample(const T* x, T* cols, std::size_t row_length) {
    constexpr std::size_t k = G.kernel;
    for (std::size_t ch = 0; ch < G.channels; ++ch)
        for (std::size_t kh = 0; kh < k; ++kh)
            for (std::size_t kw = 0; kw < k; ++kw) {
                T* dst = cols + ((ch * k + kh) * k + kw) * row_length;
                const T* src = x + (ch * G.height + kh * G.dilation) * G.width + kw * G.dilation;
                for (std::size_t oh = 0; oh < G.out_h; ++oh, dst += G.out_w, src += G.stride * G.width) {
                    if constexpr (G.stride == 1) copy_short<G.out_w>(src, dst);
                    else
                        for (std::size_t ow = 0; ow < G.out_w; ++ow) dst[ow] = src[ow * G.stride];
                }
            }
}
// im2col for a batch, in the layout that makes the convolution's product land with one
// row per output channel: `cols` has one row per (channel, kernel row, kernel column) and
// one column per (sample, output position), i.e. patch x (rows * positions); padding reads
// as zero. A padded input is first copied into a zero-bordered buffer (one sample, per
// geometry and thread), so the copying loops never test bounds.
template <window_dims G, class T>
void im2col(const T* x, std::size_t rows, T* cols) {
    constexpr window_dims U = window_in_border<G>();
    const std::size_t row_length = rows * G.positions();
    if constexpr (!needs_border<G>) {
        for (std::size_t n = 0; n < rows; ++n) im2col_sample<G>(x + n * G.in_size(), cols + n * G.positions(), row_length);
    } else {
        thread_local std::vector<T> padded;  // the border stays zero: only the inside is written
        if (padded.size() != U.in_size()) padded.assign(U.in_size(), T(0));
        for (std::size_t n = 0; n < rows; ++n) {
            const T* sample = x + n * G.in_size();
            for (std::size_t ch = 0; ch < G.channels; ++ch)
                for (std::size_t ih = 0; ih < G.height; ++ih)
                    copy_short<G.width>(sample + (ch * G.height + ih) * G.width,
                                        padded.data() + (ch * U.height + ih + G.pad_top) * U.width + G.pad_left);
            im2col_sample<U>(padded.data(), cols + n * G.positions(), row_length);
        }
    }
}

// Where one kernel offset reads: output columns [lo, hi) of a row hit the input at
// ow * stride + offset - pad, inside [0, size); the others read padding.
struct window_run {
    std::size_t lo, hi;
};
constexpr window_run run_inside(std::size_t offset, std::size_t pad, std::size_t size, std::size_t stride,
                                std::size_t out) {
    // First ow with ow * stride + offset >= pad, last with ow * stride + offset < pad + size.
    const std::size_t lo = offset >= pad ? 0 : (pad - offset + stride - 1) / stride;
    const std::size_t hi = offset >= pad + size ? 0 : (pad + size - offset - 1) / stride + 1;
    return {std::min(lo, out), std::min(std::max(lo, hi), out)};
}

// The adjoint of im2col: every column entry added back to the pixel it came from. `dx` is
// assigned (zeroed first). Each pixel receives its terms in order of output position (as a
// loop over positions would add them): kernel offsets in reverse order.
template <window_dims G, class T>
void col2im(const T* cols, std::size_t rows, T* dx) {
    constexpr std::size_t k = G.kernel, positions = G.positions();
    const std::size_t stride_row = rows * positions;
    std::fill(dx, dx + rows * G.in_size(), T(0));
    for (std::size_t n = 0; n < rows; ++n, dx += G.in_size())
        for (std::size_t ch = 0; ch < G.channels; ++ch) {
            T* plane = dx + ch * G.height * G.width;
            for (std::size_t kh = k; kh-- > 0;)
                for (std::size_t kw = k; kw-- > 0;) {
                    const T* src = cols + ((ch * k + kh) * k + kw) * stride_row + n * positions;
                    const window_run r = run_inside(kw * G.dilation, G.pad_left, G.width, G.stride, G.out_w);
                    const std::size_t shift = kw * G.dilation - G.pad_left;
                    for (std::size_t oh = 0; oh < G.out_h; ++oh, src += G.out_w) {
                        const std::size_t ih = oh * G.stride + kh * G.dilation - G.pad_top;
                        if (ih >= G.height || r.lo >= r.hi) continue;
                        T* d = plane + ih * G.width + (r.lo * G.stride + shift);
                        const T* s = src + r.lo;
                        if constexpr (G.stride == 1)
                            for (std::size_t i = 0; i < r.hi - r.lo; ++i) d[i] += s[i];
                        else
                            for (std::size_t i = 0; i < r.hi - r.lo; ++i) d[i * G.stride] += s[i];
                    }
                }
        }
}

}  // namespace detail
}  // namespace nnp

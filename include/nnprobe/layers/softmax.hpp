#pragma once
// softmax and log_softmax over a sample's features, or over each position's features on a
// sequence (PyTorch's softmax(dim=-1) on B x T x D; padded positions are computed too and left
// to the masked layers after, as a per-position layer does). Nonlinear when hidden; as the
// last node they are output heads, which C3 does not count and C5 compares with the loss.
#include <string>

#include "../layer.hpp"
#include "../sequence.hpp"
#include "../tensor.hpp"

namespace nnp {

namespace detail {
// The row loops, compiled once in src/layer_kernels.cpp at float and double: y = softmax (or
// log_softmax) of each row of n entries of x, and its backward from y.
template <bool Log, class T>
void softmax_forward(const T* x, T* y, std::size_t rows, std::size_t n);
template <bool Log, class T>
void softmax_backward(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t n);

template <bool Log>
struct softmax_spec {
    static constexpr linearity_class linearity = linearity_class::nonlinear;
    static constexpr bool is_output_head = true;
    static constexpr bool outputs_log_probabilities = Log;
    static constexpr bool outputs_probabilities = !Log;
    template <class In>
    using output_shape = In;
    template <class In>
    static constexpr bool accepts = In::rank == 1 || is_sequence<In>;
    static std::string describe() { return Log ? "log_softmax" : "softmax"; }

    template <class T, class In>
    struct impl {
        static constexpr std::size_t n = features_per_row<In>();
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            // Rows: samples, or samples x positions.
            softmax_forward<Log, T>(x.data(), y.data(), x.size() / n, n);
        }
        void backward(const matrix<T>&, const matrix<T>& y, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            if (dx) softmax_backward<Log, T>(y.data(), dy.data(), dx->data(), y.size() / n, n);
        }
    };
};
}  // namespace detail

using softmax_t = detail::softmax_spec<false>;
using log_softmax_t = detail::softmax_spec<true>;
inline constexpr softmax_t softmax{};
inline constexpr log_softmax_t log_softmax{};

}  // namespace nnp

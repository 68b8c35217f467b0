#pragma once
// softmax and log_softmax over a sample's features, or over each position's features on a
// sequence (PyTorch's softmax(dim=-1) on B x T x D; padded positions are computed too and left
// to the masked layers after, as a per-position layer does). Nonlinear when hidden; as the
// last node they are output heads, which C3 does not count and C5 compares with the loss.
#include <algorithm>
#include <cmath>
#include <string>

#include "../layer.hpp"
#include "../sequence.hpp"
#include "../tensor.hpp"

namespace nnp {

namespace detail {
// log(sum(exp(z))) over n entries, shifted by the maximum so nothing overflows.
template <class T>
T log_sum_exp(const T* z, std::size_t n) {
    const T m = *std::max_element(z, z + n);
    T sum = 0;
    for (std::size_t j = 0; j < n; ++j) sum += std::exp(z[j] - m);
    return m + std::log(sum);
}

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
            const std::size_t rows = x.size() / n;  // samples, or samples x positions
            for (std::size_t r = 0; r < rows; ++r) {
                const T* px = x.data() + r * n;
                T* py = y.data() + r * n;
                const T lse = log_sum_exp(px, n);
                for (std::size_t j = 0; j < n; ++j)
                    py[j] = Log ? px[j] - lse : std::exp(px[j] - lse);
            }
        }
        void backward(const matrix<T>&, const matrix<T>& y, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            if (!dx) return;
            const std::size_t rows = y.size() / n;
            for (std::size_t r = 0; r < rows; ++r) {
                const T* py = y.data() + r * n;
                const T* pd = dy.data() + r * n;
                T* pdx = dx->data() + r * n;
                if constexpr (Log) {  // dx = dy - softmax * sum(dy)
                    T s = 0;
                    for (std::size_t j = 0; j < n; ++j) s += pd[j];
                    for (std::size_t j = 0; j < n; ++j) pdx[j] = pd[j] - std::exp(py[j]) * s;
                } else {  // dx = y * (dy - <dy, y>)
                    T s = 0;
                    for (std::size_t j = 0; j < n; ++j) s += pd[j] * py[j];
                    for (std::size_t j = 0; j < n; ++j) pdx[j] = py[j] * (pd[j] - s);
                }
            }
        }
    };
};
}  // namespace detail

using softmax_t = detail::softmax_spec<false>;
using log_softmax_t = detail::softmax_spec<true>;
inline constexpr softmax_t softmax{};
inline constexpr log_softmax_t log_softmax{};

}  // namespace nnp

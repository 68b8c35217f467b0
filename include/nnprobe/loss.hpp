#pragma once
// Losses: each returns the batch-mean loss and writes d loss / d output into `grad`.
//   softmax_cross_entropy  logits (n x C), integer labels            mean over samples
//   binary_cross_entropy   logits (n x k), 0/1 targets or labels      mean over elements
//   mse                    outputs (n x k), targets (n x k)            mean over elements
#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/core.h>

#include "error.hpp"
#include "tensor.hpp"

namespace nnp {

namespace detail {
// A mean over no samples is NaN: refuse it by name instead.
template <class T>
void check_not_empty(const matrix<T>& out, const char* loss) {
    if (out.shape()[0] == 0)
        throw error(fmt::format("nnprobe: {}: the batch has 0 rows: a loss needs at least one sample",
                                loss));
}
template <class T>
void check_rows(const matrix<T>& out, std::size_t n, const char* loss) {
    if (out.shape()[0] != n)
        throw error(fmt::format("nnprobe: {}: the output has {} rows but there are {} targets",
                                loss, out.shape()[0], n));
    check_not_empty(out, loss);
}
template <class T>
void check_label(int y, std::size_t classes, std::size_t row, const char* loss) {
    if (y < 0 || static_cast<std::size_t>(y) >= classes)
        throw error(fmt::format("nnprobe: {}: label {} of sample {} is out of range [0, {})", loss,
                                y, row, classes));
}
// The loops, compiled once in src/layer_kernels.cpp at float and double: each writes the
// gradient of the sum of the per-sample (or per-element) losses divided by n, and returns
// that sum, added in double in order.
template <class T>
double softmax_cross_entropy_sum(const T* logits, const int* y, std::size_t n, std::size_t c, T* grad);
template <class T>
double binary_cross_entropy_sum(const T* logits, const T* target, std::size_t n, T* grad);
template <class T>
double squared_error_sum(const T* out, const T* target, std::size_t n, T* grad);
}  // namespace detail

struct softmax_cross_entropy_t {
    static constexpr bool expects_logits = true;
    static constexpr bool is_classification = true;
    static constexpr const char* name = "softmax_cross_entropy";

    template <class T>
    T operator()(const matrix<T>& logits, const std::vector<int>& y, matrix<T>& grad) const {
        detail::check_rows(logits, y.size(), name);
        const std::size_t n = logits.shape()[0], c = logits.shape()[1];
        detail::ensure_shape(grad, n, c);
        for (std::size_t r = 0; r < n; ++r)
            if (static_cast<std::size_t>(y[r]) >= c) detail::check_label<T>(y[r], c, r, name);
        const double total = detail::softmax_cross_entropy_sum(logits.data(), y.data(), n, c, grad.data());
        return static_cast<T>(total / static_cast<double>(n));
    }
};

struct binary_cross_entropy_t {
    static constexpr bool expects_logits = true;
    static constexpr bool is_classification = true;
    static constexpr const char* name = "binary_cross_entropy";

    // Targets in [0, 1], one per output element.
    template <class T>
    T operator()(const matrix<T>& logits, const matrix<T>& target, matrix<T>& grad) const {
        if (logits.shape() != target.shape())
            throw error(fmt::format("nnprobe: {}: output is {}x{} but the targets are {}x{}", name,
                                    logits.shape()[0], logits.shape()[1], target.shape()[0],
                                    target.shape()[1]));
        detail::check_not_empty(logits, name);
        detail::ensure_shape(grad, logits.shape()[0], logits.shape()[1]);
        const std::size_t n = logits.size();
        const double total = detail::binary_cross_entropy_sum(logits.data(), target.data(), n, grad.data());
        return static_cast<T>(total / static_cast<double>(n));
    }
    // Integer labels 0/1 for a single-logit output.
    template <class T>
    T operator()(const matrix<T>& logits, const std::vector<int>& y, matrix<T>& grad) const {
        detail::check_rows(logits, y.size(), name);
        matrix<T> t({y.size(), logits.shape()[1]}, T(0));
        for (std::size_t r = 0; r < y.size(); ++r) {
            detail::check_label<T>(y[r], 2, r, name);
            for (std::size_t j = 0; j < t.shape()[1]; ++j) t(r, j) = static_cast<T>(y[r]);
        }
        return (*this)(logits, t, grad);
    }
};

struct mse_t {
    static constexpr bool expects_logits = false;
    static constexpr bool is_classification = false;
    static constexpr const char* name = "mse";

    template <class T>
    T operator()(const matrix<T>& out, const matrix<T>& target, matrix<T>& grad) const {
        if (out.shape() != target.shape())
            throw error(fmt::format("nnprobe: mse: output is {}x{} but the targets are {}x{}",
                                    out.shape()[0], out.shape()[1], target.shape()[0],
                                    target.shape()[1]));
        detail::check_not_empty(out, name);
        detail::ensure_shape(grad, out.shape()[0], out.shape()[1]);
        const std::size_t n = out.size();
        const double total = detail::squared_error_sum(out.data(), target.data(), n, grad.data());
        return static_cast<T>(total / static_cast<double>(n));
    }
};

inline constexpr softmax_cross_entropy_t softmax_cross_entropy{};
inline constexpr binary_cross_entropy_t binary_cross_entropy{};
inline constexpr mse_t mse{};

// Fraction of rows whose arg-max (or, for one column, sign) matches the label.
template <class T>
double accuracy(const matrix<T>& out, const std::vector<int>& y) {
    const std::size_t n = out.shape()[0], c = out.shape()[1];
    if (n != y.size())
        throw error(fmt::format("nnprobe: accuracy: the output has {} rows but there are {} labels",
                                n, y.size()));
    if (n == 0) throw error("nnprobe: accuracy: the batch has 0 rows");
    if (c == 0) throw error("nnprobe: accuracy: the output has 0 columns");
    std::size_t hit = 0;
    for (std::size_t r = 0; r < n; ++r) {
        const T* z = out.data() + r * c;
        const int pred = c == 1 ? (z[0] > T(0) ? 1 : 0)
                                : static_cast<int>(std::max_element(z, z + c) - z);
        hit += pred == y[r];
    }
    return static_cast<double>(hit) / static_cast<double>(n);
}
// Compiled once, in the library (src/layer_kernels.cpp).
extern template double accuracy(const matrix<float>&, const std::vector<int>&);
extern template double accuracy(const matrix<double>&, const std::vector<int>&);

}  // namespace nnp

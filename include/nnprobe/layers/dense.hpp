#pragma once
// dense<N>: y = x W + b, the affine feature-mixing layer. W is stored (in x out) so the
// forward product needs no transpose. On a sequence (T x D per sample) it maps every
// position alike, as PyTorch's Linear does on the last axis: T x D -> T x N.
#include <string>
#include "../init.hpp"
#include "../layer.hpp"
#include "../sequence.hpp"
#include "../shape.hpp"
#include "../tensor.hpp"

namespace nnp {

namespace detail {
// The products and the bias loops over run-time sizes, compiled once in src/layer_kernels.cpp
// at float and double: y = x w (+ b) for rows x in inputs; dw = x^T dy, db = the column sums
// of dy (when db), dx = dy w^T (when dx).
template <class T>
void dense_forward(std::size_t rows, std::size_t in, std::size_t out, const T* x, const T* w, const T* b, T* y);
template <class T>
void dense_backward(std::size_t rows, std::size_t in, std::size_t out, const T* x, const T* w, const T* dy, T* dw,
                    T* db, T* dx);
}  // namespace detail

template <std::size_t N, bool Bias = true>
struct dense_t : layer_base<dense_t<N, Bias>> {
    static constexpr linearity_class linearity = linearity_class::affine_mixing;
    static constexpr bool uses_init = true;
    template <class In>
    using output_shape = detail::per_position<In, (N > 0 ? N : 1)>;  // dense<0>: error below
    template <class In>
    static constexpr bool accepts = In::rank == 1 || detail::is_sequence<In>;
    static std::string describe() {
        return (Bias ? "dense<" : "dense_no_bias<") + std::to_string(N) + ">";
    }

    template <class T, class In>
    struct impl {
        static constexpr std::size_t fan_in = detail::features_per_row<In>();
        matrix<T> w = detail::zero_matrix<T>(fan_in, N), dw = detail::zero_matrix<T>(fan_in, N);
        vector<T> b = detail::filled_vector<T>(Bias ? N : 0, T(0)), db = b;

        void init(const dense_t&, const init_spec& s, rng& r) {
            detail::initialise(w, s, fan_in, N, r);
            b.fill(T(0));
        }
        template <class F>
        void for_each_param(F&& f) {
            f("weight", w, dw);
            if constexpr (Bias) f("bias", b, db);
        }
        // Rows of the product: samples, or samples x positions for a sequence.
        static std::size_t rows_of(const matrix<T>& x) { return x.size() / fan_in; }
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            detail::dense_forward<T>(rows_of(x), fan_in, N, x.data(), w.data(), Bias ? b.data() : nullptr,
                                     y.data());
        }
        void backward(const matrix<T>& x, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            detail::dense_backward<T>(rows_of(x), fan_in, N, x.data(), w.data(), dy.data(), dw.data(),
                                      Bias ? db.data() : nullptr, dx ? dx->data() : nullptr);
        }
    };
};

namespace detail {
// The width is checked where the variable is made, not in dense_t: clang treats a class
// whose static_assert failed as having no members, and C7 would fire as well.
template <std::size_t N, bool Bias>
constexpr dense_t<N, Bias> dense_of_width() {
    static_assert(N > 0, "nnprobe: dense<0>: a dense layer needs at least one output feature");
    return {};
}
}  // namespace detail

template <std::size_t N>
inline constexpr dense_t<N, true> dense = detail::dense_of_width<N, true>();
template <std::size_t N>
inline constexpr dense_t<N, false> dense_no_bias = detail::dense_of_width<N, false>();

}  // namespace nnp

#pragma once
// dense<N>: y = x W + b, the affine feature-mixing layer. W is stored (in x out) so the
// forward product needs no transpose. On a sequence (T x D per sample) it maps every
// position alike, as PyTorch's Linear does on the last axis: T x D -> T x N.
#include <string>
#include "../blas.hpp"
#include "../init.hpp"
#include "../layer.hpp"
#include "../sequence.hpp"
#include "../shape.hpp"
#include "../tensor.hpp"

namespace nnp {

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
            const std::size_t rows = rows_of(x);
            detail::gemm(false, false, rows, N, fan_in, x.data(), w.data(), y.data());
            if constexpr (Bias) {
                T* py = y.data();
                const T* pb = b.data();
                for (std::size_t r = 0; r < rows; ++r, py += N)
                    for (std::size_t j = 0; j < N; ++j) py[j] += pb[j];
            }
        }
        void backward(const matrix<T>& x, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            const std::size_t rows = rows_of(x);
            detail::gemm(true, false, fan_in, N, rows, x.data(), dy.data(), dw.data());
            if constexpr (Bias) {
                db.fill(T(0));
                const T* pd = dy.data();
                T* pb = db.data();
                for (std::size_t r = 0; r < rows; ++r, pd += N)
                    for (std::size_t j = 0; j < N; ++j) pb[j] += pd[j];
            }
            if (dx) detail::gemm(false, true, rows, fan_in, N, dy.data(), w.data(), dx->data());
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

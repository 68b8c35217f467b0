#pragma once
// Nodes with more than one input: residual add and feature concat. They are written in the
// graph as `add<"name">` / `concat<"name">`, joining the current node with a named one.
#include <span>
#include <string>

#include "../layer.hpp"
#include "../shape.hpp"
#include "../tensor.hpp"

namespace nnp {

struct add_t {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    static constexpr bool is_merge = true;
    template <class In>
    using output_shape = In;
    static std::string describe() { return "add"; }

    template <class T, class In>
    struct impl {
        void forward(std::span<const matrix<T>* const> xs, matrix<T>& y, context&) {
            detail::copy_into(y, *xs[0]);
            for (std::size_t k = 1; k < xs.size(); ++k) detail::add_into(y, *xs[k]);
        }
        void backward(const matrix<T>& dy, std::span<matrix<T>* const> dxs, context&) {
            for (auto* dx : dxs) detail::copy_into(*dx, dy);
        }
    };
};

struct concat_t {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    static constexpr bool is_merge = true;
    static std::string describe() { return "concat"; }

    template <class In>
    using output_shape = In;  // the graph computes the joined shape itself

    template <class T, class In>
    struct impl {
        void forward(std::span<const matrix<T>* const> xs, matrix<T>& y, context&) {
            const std::size_t rows = xs[0]->shape()[0];
            std::size_t col = 0;
            for (auto* x : xs) {
                const std::size_t c = x->shape()[1];
                for (std::size_t r = 0; r < rows; ++r)
                    for (std::size_t j = 0; j < c; ++j) y(r, col + j) = (*x)(r, j);
                col += c;
            }
        }
        void backward(const matrix<T>& dy, std::span<matrix<T>* const> dxs, context&) {
            const std::size_t rows = dy.shape()[0];
            std::size_t col = 0;
            for (auto* dx : dxs) {  // the model always passes a buffer to a merge
                const std::size_t c = dx->shape()[1];
                for (std::size_t r = 0; r < rows; ++r)
                    for (std::size_t j = 0; j < c; ++j) (*dx)(r, j) = dy(r, col + j);
                col += c;
            }
        }
    };
};

}  // namespace nnp

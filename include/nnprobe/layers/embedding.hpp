#pragma once
// Token sequences into vectors:
//   embedding<Vocab, Dim>     ids in [0, Vocab) -> rows of a learned Vocab x Dim table, as
//                             PyTorch's Embedding(Vocab, Dim, padding_idx=0): id 0 is the
//                             padding id, its row starts at zero and never gets a gradient
//   positional_encoding       adds the sinusoidal encoding of "Attention is all you need"
//                             (sin on even features, cos on odd ones) to every position
//   learned_positional_encoding  adds a learned MaxLen x D table, row t to position t
//                             (N(0, 1) as an Embedding, unless the node asks otherwise)
// Both work on sequences (sequence.hpp): the embedding takes token_input<MaxLen>'s ids.
#include <cmath>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "../error.hpp"
#include "../init.hpp"
#include "../layer.hpp"
#include "../sequence.hpp"
#include "../tensor.hpp"

namespace nnp {

// The id that pads a sequence to its batch's length.
inline constexpr std::size_t padding_id = 0;

template <std::size_t Vocab, std::size_t Dim>
struct embedding_t : layer_base<embedding_t<Vocab, Dim>> {
    static_assert(Vocab >= 2 && Dim >= 1,
                  "nnprobe: embedding<Vocab, Dim>: the vocabulary holds the padding id 0 and at "
                  "least one token; Dim >= 1");
    // A table lookup is not affine in the ids: it counts as a nonlinearity.
    static constexpr linearity_class linearity = linearity_class::nonlinear;
    // The ids it takes: checked against a pipeline's token data (C6).
    static constexpr std::size_t vocabulary = Vocab;
    template <class In>
    static constexpr bool accepts = detail::is_sequence<In> && In::width == 1;
    template <class In>
    using output_shape = sequence<In::max_length, Dim, In::padded>;
    static std::string describe() { return fmt::format("embedding<{}, {}>", Vocab, Dim); }

    template <class T, class In>
    struct impl {
        matrix<T> table = detail::zero_matrix<T>(Vocab, Dim), dtable = detail::zero_matrix<T>(Vocab, Dim);

        // N(0, 1) as PyTorch's Embedding, unless the node asks for normal/uniform/constant.
        void init(const embedding_t&, const init_spec& s, rng& r) {
            if (s.kind == init_spec::normal || s.kind == init_spec::uniform || s.kind == init_spec::constant)
                detail::initialise(table, s, Dim, Dim, r);
            else
                detail::initialise(table, init::normal(1.0), Dim, Dim, r);
            for (std::size_t j = 0; j < Dim; ++j) table(padding_id, j) = T(0);
        }
        template <class F>
        void for_each_param(F&& f) {
            f("table", table, dtable);
        }
        static std::size_t id_at(const matrix<T>& x, std::size_t i) {
            const T v = x.data()[i];
            if (!(v >= T(0) && v < T(Vocab)) || v != std::floor(v)) {
                const std::size_t len = x.shape()[1];
                throw error(fmt::format("nnprobe: {}: sample {} position {} holds {}: not a token "
                                        "id in [0, {})",
                                        embedding_t::describe(), i / len, i % len, v, Vocab));
            }
            return static_cast<std::size_t>(v);
        }
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            const std::size_t n = x.size();
            for (std::size_t i = 0; i < n; ++i) {
                const T* row = table.data() + id_at(x, i) * Dim;
                std::copy(row, row + Dim, y.data() + i * Dim);
            }
        }
        void backward(const matrix<T>& x, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            dtable.fill(T(0));
            const std::size_t n = x.size();
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t id = id_at(x, i);
                if (id == padding_id) continue;
                T* g = dtable.data() + id * Dim;
                const T* d = dy.data() + i * Dim;
                for (std::size_t j = 0; j < Dim; ++j) g[j] += d[j];
            }
            if (dx) dx->fill(T(0));  // ids are not differentiable
        }
    };
};
template <std::size_t Vocab, std::size_t Dim>
inline constexpr embedding_t<Vocab, Dim> embedding{};

struct positional_encoding_t {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    template <class In>
    static constexpr bool accepts = detail::is_sequence<In>;
    template <class In>
    using output_shape = In;
    static std::string describe() { return "positional_encoding"; }

    template <class T, class In>
    struct impl {
        static constexpr std::size_t D = In::width;
        // pe[t * D + j]: sin(t / 10000^(2i / D)) for j = 2i, cos of the same for j = 2i + 1.
        std::vector<T> pe = [] {
            std::vector<T> v(In::max_length * D);
            for (std::size_t t = 0; t < In::max_length; ++t)
                for (std::size_t j = 0; j < D; ++j) {
                    const double angle = static_cast<double>(t) /
                        std::pow(10000.0, static_cast<double>(j - j % 2) / static_cast<double>(D));
                    v[t * D + j] = static_cast<T>(j % 2 ? std::cos(angle) : std::sin(angle));
                }
            return v;
        }();
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            const std::size_t rows = x.shape()[0], cols = x.shape()[1];
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t i = 0; i < cols; ++i) y(r, i) = x(r, i) + pe[i];
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            if (dx) detail::copy_into(*dx, dy);
        }
    };
};
inline constexpr positional_encoding_t positional_encoding{};

struct learned_positional_encoding_t : layer_base<learned_positional_encoding_t> {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    template <class In>
    static constexpr bool accepts = detail::is_sequence<In>;
    template <class In>
    using output_shape = In;
    static std::string describe() { return "learned_positional_encoding"; }

    template <class T, class In>
    struct impl {
        static constexpr std::size_t M = In::max_length, D = In::width;
        matrix<T> table = detail::zero_matrix<T>(M, D), dtable = detail::zero_matrix<T>(M, D);
        void init(const learned_positional_encoding_t&, const init_spec& s, rng& r) {
            const bool given = s.kind == init_spec::normal || s.kind == init_spec::uniform ||
                               s.kind == init_spec::constant;
            detail::initialise(table, given ? s : init::normal(1.0), D, D, r);
        }
        template <class F>
        void for_each_param(F&& f) {
            f("table", table, dtable);
        }
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            const std::size_t rows = x.shape()[0], cols = x.shape()[1];
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t i = 0; i < cols; ++i) y(r, i) = x(r, i) + table.data()[i];
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            const std::size_t rows = dy.shape()[0], cols = dy.shape()[1];
            dtable.fill(T(0));
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t i = 0; i < cols; ++i) dtable.data()[i] += dy(r, i);
            if (dx) detail::copy_into(*dx, dy);
        }
    };
};
inline constexpr learned_positional_encoding_t learned_positional_encoding{};

}  // namespace nnp

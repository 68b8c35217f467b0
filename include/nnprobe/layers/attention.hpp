#pragma once
// Multi-head self-attention on a sequence, as PyTorch's MultiheadAttention(D, Heads) called
// with q = k = v = x, a key_padding_mask from the batch's padding mask and, for the causal
// variant, a mask that hides the positions after each query:
//   self_attention<Heads>          T x D -> T x D
//   causal_self_attention<Heads>   the same, position t attends to positions <= t only
// Q, K, V = x Wq + bq, x Wk + bk, x Wv + bv (stored together, D x 3D); each head takes D /
// Heads features; y = concat(heads) Wo + bo. Padded keys get no weight; padded queries are
// computed too (as PyTorch does) and are left to the masked layers after.
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "../init.hpp"
#include "../layer.hpp"
#include "../sequence.hpp"
#include "../tensor.hpp"
#include "attention_kernels.hpp"
#include "dense.hpp"
#include "masked_pooling.hpp"

namespace nnp {

template <std::size_t Heads, bool Causal = false>
struct self_attention_t : layer_base<self_attention_t<Heads, Causal>> {
    static_assert(Heads >= 1, "nnprobe: attention needs at least one head");
    static constexpr linearity_class linearity = linearity_class::nonlinear;
    static constexpr bool reduces_positions = true;
    static constexpr bool uses_mask = true;
    static constexpr bool causal = Causal;
    // C1: the heads split the width evenly.
    template <class In>
    static constexpr bool accepts = detail::is_sequence<In> && In::width % Heads == 0;
    template <class In>
    using output_shape = In;
    static std::string describe() {
        return fmt::format("{}self_attention<{}>", Causal ? "causal_" : "", Heads);
    }

    template <class T, class In>
    struct impl {
        static constexpr std::size_t D = In::width, H = Heads, dh = D / Heads;
        matrix<T> wqkv = detail::zero_matrix<T>(D, 3 * D), dwqkv = wqkv;
        vector<T> bqkv = detail::filled_vector<T>(3 * D, T(0)), dbqkv = bqkv;
        matrix<T> wo = detail::zero_matrix<T>(D, D), dwo = wo;
        vector<T> bo = detail::filled_vector<T>(D, T(0)), dbo = bo;
        std::vector<T> qkv, att, heads, dheads, dqkv;  // per batch, reused
        std::size_t rows = 0, len = 0;

        void init(const self_attention_t&, const init_spec& s, rng& r) {
            const bool given = s.kind == init_spec::normal || s.kind == init_spec::uniform ||
                               s.kind == init_spec::constant;
            detail::initialise(wqkv, given ? s : init::glorot, D, D, r);
            detail::initialise(wo, given ? s : init::glorot, D, D, r);
            bqkv.fill(T(0));
            bo.fill(T(0));
        }
        template <class F>
        void for_each_param(F&& f) {
            f("in_weight", wqkv, dwqkv);
            f("in_bias", bqkv, dbqkv);
            f("out_weight", wo, dwo);
            f("out_bias", bo, dbo);
        }
        detail::attention_dims dims(const padding_mask& m) const {
            return {rows, len, D, H, Causal, m.lengths().data()};
        }

        void forward(const matrix<T>& x, matrix<T>& y, context& ctx) {
            rows = x.shape()[0];
            len = x.shape()[1] / D;
            const padding_mask& m = detail::mask_of(ctx, rows, len, "self_attention");
            const std::size_t n = rows * len;
            qkv.resize(n * 3 * D);
            heads.resize(n * D);
            // The projections are dense layers' products (the bias loops compiled for the widest vectors).
            detail::dense_forward<T>(n, D, 3 * D, x.data(), wqkv.data(), bqkv.data(), qkv.data());
            att.resize(dims(m).weights_size());
            detail::attention_forward(dims(m), qkv.data(), att.data(), heads.data());
            detail::dense_forward<T>(n, D, D, heads.data(), wo.data(), bo.data(), y.data());
        }

        void backward(const matrix<T>& x, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context& ctx) {
            const padding_mask& m = detail::mask_of(ctx, rows, len, "self_attention");
            const std::size_t n = rows * len;
            dheads.resize(n * D);
            dqkv.assign(n * 3 * D, T(0));
            detail::dense_backward<T>(n, D, D, heads.data(), wo.data(), dy.data(), dwo.data(), dbo.data(),
                                      dheads.data());
            detail::attention_backward(dims(m), qkv.data(), att.data(), dheads.data(), dqkv.data());
            detail::dense_backward<T>(n, D, 3 * D, x.data(), wqkv.data(), dqkv.data(), dwqkv.data(), dbqkv.data(),
                                      dx ? dx->data() : nullptr);
        }
    };
};
template <std::size_t Heads>
inline constexpr self_attention_t<Heads, false> self_attention{};
template <std::size_t Heads>
inline constexpr self_attention_t<Heads, true> causal_self_attention{};

}  // namespace nnp

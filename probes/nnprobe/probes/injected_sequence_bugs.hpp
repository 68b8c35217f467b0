#pragma once
// Real sequence-model bugs, written as a user writes the layers: attention masked the wrong
// way, and poolings that count or pick padded positions. Each declares what a correct layer
// declares (uses_mask, causal), so the static checks let it through; padding_invariance or
// causality names its node. The probes' tests inject them into the sequence classifier.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/core.h>

#include <nnprobe/layers/attention.hpp>
#include <nnprobe/layers/masked_pooling.hpp>
#include <nnprobe/sequence.hpp>

namespace nnp::bugs {

namespace detail {
// Multi-head self-attention as it is written from the formula: a T x T score matrix per
// sample and head, s_ij = q_i . k_j / sqrt(dh) for every query i and key j, a masking step
// (`Masking::weights` turns query i's row of scores into weights), o_i = sum_j a_ij v_j.
// Projections and parameters are the library's; the bugs differ in the masking step only.
// Scores are masked with a large negative number, not -inf, as is common in user code: a row
// with every key masked then gets uniform weights rather than NaN.
template <class Masking, std::size_t Heads, bool Causal>
struct user_attention : self_attention_t<Heads, Causal> {
    static std::string describe() { return fmt::format("{}<{}>", Masking::name, Heads); }

    template <class T, class In>
    struct impl : self_attention_t<Heads, Causal>::template impl<T, In> {
        using base = typename self_attention_t<Heads, Causal>::template impl<T, In>;
        static constexpr std::size_t D = base::D, H = base::H, dh = base::dh;

        void forward(const matrix<T>& x, matrix<T>& y, context& ctx) {
            auto& s = *this;
            s.rows = x.shape()[0];
            s.len = x.shape()[1] / D;
            const std::size_t len = s.len, n = s.rows * len;
            const padding_mask& m = nnp::detail::mask_of(ctx, s.rows, len, Masking::name);
            s.qkv.resize(n * 3 * D);
            s.att.resize(s.rows * H * len * len);
            s.heads.resize(n * D);
            nnp::detail::gemm(false, false, n, 3 * D, D, x.data(), s.wqkv.data(), s.qkv.data());
            for (std::size_t p = 0; p < n; ++p)
                for (std::size_t j = 0; j < 3 * D; ++j) s.qkv[p * 3 * D + j] += s.bqkv(j);
            const T scale = T(1) / std::sqrt(static_cast<T>(dh));
            for (std::size_t b = 0; b < s.rows; ++b)
                for (std::size_t h = 0; h < H; ++h)
                    for (std::size_t i = 0; i < len; ++i) {
                        T* a = s.att.data() + ((b * H + h) * len + i) * len;
                        const T* q = s.qkv.data() + (b * len + i) * 3 * D + h * dh;
                        for (std::size_t j = 0; j < len; ++j) {
                            const T* k = s.qkv.data() + (b * len + j) * 3 * D + D + h * dh;
                            T dot = 0;
                            for (std::size_t e = 0; e < dh; ++e) dot += q[e] * k[e];
                            a[j] = dot * scale;
                        }
                        Masking::weights(a, m, b, i, len);
                        T* o = s.heads.data() + (b * len + i) * D + h * dh;
                        std::fill(o, o + dh, T(0));
                        for (std::size_t j = 0; j < len; ++j) {
                            const T* v = s.qkv.data() + (b * len + j) * 3 * D + 2 * D + h * dh;
                            for (std::size_t e = 0; e < dh; ++e) o[e] += a[j] * v[e];
                        }
                    }
            nnp::detail::gemm(false, false, n, D, D, s.heads.data(), s.wo.data(), y.data());
            for (std::size_t p = 0; p < n; ++p)
                for (std::size_t j = 0; j < D; ++j) y.data()[p * D + j] += s.bo(j);
        }

        // The softmax's backward over every key: exact where the weights are a softmax of
        // the scores (masked scores have weight 0 or are constants), as training needs.
        void backward(const matrix<T>& x, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx, context&) {
            auto& s = *this;
            const std::size_t len = s.len, n = s.rows * len;
            s.dheads.resize(n * D);
            s.dqkv.assign(n * 3 * D, T(0));
            nnp::detail::gemm(true, false, D, D, n, s.heads.data(), dy.data(), s.dwo.data());
            s.dbo.fill(T(0));
            for (std::size_t p = 0; p < n; ++p)
                for (std::size_t j = 0; j < D; ++j) s.dbo(j) += dy.data()[p * D + j];
            nnp::detail::gemm(false, true, n, D, D, dy.data(), s.wo.data(), s.dheads.data());
            const T scale = T(1) / std::sqrt(static_cast<T>(dh));
            std::vector<T> da(len);
            for (std::size_t b = 0; b < s.rows; ++b)
                for (std::size_t h = 0; h < H; ++h)
                    for (std::size_t i = 0; i < len; ++i) {
                        const T* a = s.att.data() + ((b * H + h) * len + i) * len;
                        const T* d_o = s.dheads.data() + (b * len + i) * D + h * dh;
                        T dot = 0;
                        for (std::size_t j = 0; j < len; ++j) {
                            const std::size_t vj = (b * len + j) * 3 * D + 2 * D + h * dh;
                            T sum = 0;
                            for (std::size_t e = 0; e < dh; ++e) {
                                sum += d_o[e] * s.qkv[vj + e];
                                s.dqkv[vj + e] += a[j] * d_o[e];
                            }
                            da[j] = sum;
                            dot += a[j] * sum;
                        }
                        const std::size_t qi = (b * len + i) * 3 * D + h * dh;
                        for (std::size_t j = 0; j < len; ++j) {
                            const T ds = a[j] * (da[j] - dot) * scale;
                            const std::size_t kj = (b * len + j) * 3 * D + D + h * dh;
                            for (std::size_t e = 0; e < dh; ++e) {
                                s.dqkv[qi + e] += ds * s.qkv[kj + e];
                                s.dqkv[kj + e] += ds * s.qkv[qi + e];
                            }
                        }
                    }
            nnp::detail::gemm(true, false, D, 3 * D, n, x.data(), s.dqkv.data(), s.dwqkv.data());
            s.dbqkv.fill(T(0));
            for (std::size_t p = 0; p < n; ++p)
                for (std::size_t j = 0; j < 3 * D; ++j) s.dbqkv(j) += s.dqkv[p * 3 * D + j];
            if (dx) nnp::detail::gemm(false, true, n, D, 3 * D, s.dqkv.data(), s.wqkv.data(), dx->data());
        }
    };
};

// Softmax of a row of scores, in place.
template <class T>
void softmax_row(T* a, std::size_t len) {
    const T top = *std::max_element(a, a + len);
    T sum = 0;
    for (std::size_t j = 0; j < len; ++j) sum += (a[j] = std::exp(a[j] - top));
    for (std::size_t j = 0; j < len; ++j) a[j] /= sum;
}
template <class T>
inline constexpr T masked_score = T(-1e9);

// The masking a correct attention does, in the same style: padded keys (and, when causal,
// the keys after the query) get the masked score before the softmax.
template <bool Causal>
struct key_masking {
    static constexpr const char* name = Causal ? "user_causal_attention" : "user_attention";
    template <class T>
    static void weights(T* a, const padding_mask& m, std::size_t b, std::size_t i, std::size_t len) {
        for (std::size_t j = 0; j < len; ++j)
            if (!m.real(b, j) || (Causal && j > i)) a[j] = masked_score<T>;
        softmax_row(a, len);
    }
};
struct query_axis_masking {
    static constexpr const char* name = "query_masked_attention";
    template <class T>
    static void weights(T* a, const padding_mask& m, std::size_t b, std::size_t i, std::size_t len) {
        for (std::size_t j = 0; j < len; ++j)
            if (!m.real(b, i)) a[j] = masked_score<T>;  // BUG: masks query i; should test key j
        softmax_row(a, len);
    }
};
struct masking_after_softmax {
    static constexpr const char* name = "mask_after_softmax_attention";
    template <class T>
    static void weights(T* a, const padding_mask& m, std::size_t b, std::size_t, std::size_t len) {
        softmax_row(a, len);
        for (std::size_t j = 0; j < len; ++j)
            if (!m.real(b, j)) a[j] = T(0);  // BUG: after the softmax, and not renormalised
    }
};
struct inverted_masking {
    static constexpr const char* name = "inverted_mask_attention";
    template <class T>
    static void weights(T* a, const padding_mask& m, std::size_t b, std::size_t, std::size_t len) {
        for (std::size_t j = 0; j < len; ++j)
            if (m.real(b, j)) a[j] = masked_score<T>;  // BUG: masks the real keys, keeps the padded
        softmax_row(a, len);
    }
};
struct off_by_one_causal_masking {
    static constexpr const char* name = "off_by_one_causal_attention";
    template <class T>
    static void weights(T* a, const padding_mask& m, std::size_t b, std::size_t i, std::size_t len) {
        for (std::size_t j = 0; j < len; ++j)
            if (!m.real(b, j) || j > i + 1) a[j] = masked_score<T>;  // BUG: should be j > i
        softmax_row(a, len);
    }
};

// Pooling over positions, as a user writes one: it reads the mask, so it says so.
struct user_pool_base {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    static constexpr bool reduces_positions = true;
    static constexpr bool uses_mask = true;
    template <class In>
    static constexpr bool accepts = nnp::detail::is_sequence<In>;
    template <class In>
    using output_shape = shape<In::width>;
};
}  // namespace detail

// The correct attention in the user's style (padded keys masked before the softmax), the
// twin the bugs below are measured against.
template <std::size_t Heads>
using user_attention = detail::user_attention<detail::key_masking<false>, Heads, false>;
template <std::size_t Heads>
using user_causal_attention = detail::user_attention<detail::key_masking<true>, Heads, true>;

// The key-padding mask applied on the query axis: a real query attends to padded keys too.
template <std::size_t Heads>
using query_masked_attention = detail::user_attention<detail::query_axis_masking, Heads, false>;

// The mask applied after the softmax: padded keys' weights zeroed, the rest not renormalised,
// so a real query's weights sum to less than 1 once its batch pads it.
template <std::size_t Heads>
using mask_after_softmax_attention = detail::user_attention<detail::masking_after_softmax, Heads, false>;

// The mask inverted (`mask == pad` for `mask != pad`): only the padded keys get weight.
template <std::size_t Heads>
using inverted_mask_attention = detail::user_attention<detail::inverted_masking, Heads, false>;

// A causal mask off by one: position t sees position t + 1.
template <std::size_t Heads>
using off_by_one_causal_attention = detail::user_attention<detail::off_by_one_causal_masking, Heads, true>;

// A mean over the real positions divided by the batch's length: declares uses_mask, and
// counts the padding all the same.
struct mean_pool_over_batch_length : detail::user_pool_base {
    static std::string describe() { return "mean_pool_over_batch_length"; }
    template <class T, class In>
    struct impl {
        static constexpr std::size_t D = In::width;
        void forward(const matrix<T>& x, matrix<T>& y, context& ctx) {
            const std::size_t rows = x.shape()[0], len = x.shape()[1] / D;
            const padding_mask& m = nnp::detail::mask_of(ctx, rows, len, "mean_pool_over_batch_length");
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t j = 0; j < D; ++j) {
                    T sum = 0;
                    for (std::size_t t = 0; t < m.length_of(r); ++t) sum += x(r, t * D + j);
                    y(r, j) = sum / static_cast<T>(len);  // BUG: should divide by m.length_of(r)
                }
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx, context& ctx) {
            if (!dx) return;
            const std::size_t rows = dy.shape()[0], len = dx->shape()[1] / D;
            const padding_mask& m = nnp::detail::mask_of(ctx, rows, len, "mean_pool_over_batch_length");
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t t = 0; t < len; ++t)
                    for (std::size_t j = 0; j < D; ++j)
                        (*dx)(r, t * D + j) = t < m.length_of(r) ? dy(r, j) / static_cast<T>(len) : T(0);
        }
    };
};

// "The last token" taken as the batch's last position: the sample's own last token only for
// the longest samples of a batch, padding for the others.
struct last_padded_token_pool : detail::user_pool_base {
    static std::string describe() { return "last_padded_token_pool"; }
    template <class T, class In>
    struct impl {
        static constexpr std::size_t D = In::width;
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            const std::size_t rows = x.shape()[0], len = x.shape()[1] / D;
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t j = 0; j < D; ++j)
                    y(r, j) = x(r, (len - 1) * D + j);  // BUG: should be m.length_of(r) - 1
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx, context&) {
            if (!dx) return;
            const std::size_t rows = dy.shape()[0], len = dx->shape()[1] / D;
            dx->fill(T(0));
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t j = 0; j < D; ++j) (*dx)(r, (len - 1) * D + j) = dy(r, j);
        }
    };
};

}  // namespace nnp::bugs

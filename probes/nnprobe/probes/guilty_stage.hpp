#pragma once
// Naming the guilty stage: when a check fails on a pipeline with stages of the user's own (a
// batcher, transforms, an output gather, an optimiser, layers), the check is run again with
// each of them in turn replaced by the library's neutral one (full_batch, the identity
// transform, in_order, adam{.lr = 0.01}, an identity layer), and the verdict says which
// replacement makes it pass. On token data a batcher may reorder the rows of its batches
// (length_buckets): there the default gather in_order is suspect too, and is replaced by
// sample_order, which puts each sample's output back whatever the batcher did:
//   "...; passes when the batcher `previous_labels` is replaced by full_batch: the batcher is
//   the likely cause"
// One wrapper serves every check, the standard suite and any function returning a verdict
// (or the suite's vector of verdicts, matched by check name):
//   NNP_CHECK(blame_stage([](const auto& p, const auto& d, const auto& o) { return overfits(p, d, o); },
//                         pipe, data));
// A pipeline made of library stages alone has no variants: nothing is instantiated or rerun,
// and a passing check is never rerun.
#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include <nnprobe/pipeline.hpp>

#include "options.hpp"
#include "type_names.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {

// The neutral stages the user's are replaced by.
struct unchanged_features {
    template <class X>
    void operator()(X&) const {}  // features or padded tokens
};
struct identity_layer {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    template <class In>
    using output_shape = In;
    static std::string describe() { return "identity"; }
    template <class T, class In>
    struct impl {
        void forward(const matrix<T>& x, matrix<T>& y, context&) { copy_into(y, x); }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx, context&) {
            if (dx) copy_into(*dx, dy);
        }
    };
};
inline constexpr adam neutral_optimiser{.lr = 1e-2};

// Which stages are the library's own (never blamed, never replaced).
template <class X>
inline constexpr bool library_batcher = std::is_same_v<X, full_batch_t> || std::is_same_v<X, shuffled_batches> ||
                                        std::is_same_v<X, length_buckets>;
// Batchers whose rows are in the samples' order, so that in_order is the right gather.
template <class X>
inline constexpr bool in_order_batcher = std::is_same_v<X, full_batch_t> || std::is_same_v<X, shuffled_batches>;
template <class X>
inline constexpr bool library_transform = std::is_same_v<X, standardised_t> || std::is_same_v<X, unchanged_features>;
template <class X>
inline constexpr bool library_gather = std::is_same_v<X, in_order_t> || std::is_same_v<X, sample_order_t>;
template <class X>
inline constexpr bool library_optimiser = std::is_same_v<X, sgd> || std::is_same_v<X, adam>;

// A layer type's qualified name at compile time (g++: "[with L = nnp::dense_t<16>; ...]",
// clang: "[L = nnp::dense_t<16>]"): a layer of namespace nnp is the library's; one of
// nnp::bugs, the global namespace or the user's own is a user layer.
template <class L>
constexpr std::string_view qualified_name() {
    constexpr std::string_view f = __PRETTY_FUNCTION__;
    constexpr std::size_t at = f.find("L = ");
    return at == std::string_view::npos ? std::string_view() : f.substr(at + 4);
}
template <class L>
constexpr bool library_layer() {
    constexpr std::string_view n = qualified_name<L>();
    return n.starts_with("nnp::") && !n.starts_with("nnp::bugs::");
}

// Node I can stand in for an identity: a user layer with one input whose shape it keeps,
// and the network keeps a nonlinearity without it.
template <class N, class L>
struct node_with_layer;
template <class L0, class S, fixed_string Name, std::size_t... In, class L>
struct node_with_layer<node<L0, S, Name, In...>, L> {
    using type = node<L, S, Name, In...>;
};
template <class G, std::size_t I, class Seq = std::make_index_sequence<G::size>>
struct graph_with_identity_at;
template <class G, std::size_t I, std::size_t... K>
struct graph_with_identity_at<G, I, std::index_sequence<K...>> {
    using type = graph<G::cursor, std::conditional_t<K == I, typename node_with_layer<node_at<G, K>, identity_layer>::type,
                                                     node_at<G, K>>...>;
    static type make(const G& g) {
        auto pick = [&]<std::size_t J>(std::integral_constant<std::size_t, J>) {
            if constexpr (J == I) return typename node_with_layer<node_at<G, J>, identity_layer>::type{};
            else return detail::get<J>(g.nodes);
        };
        return type{{{pick(std::integral_constant<std::size_t, K>{})}...}};
    }
};
template <class G, std::size_t I>
constexpr bool replaceable_layer() {
    if constexpr (I == 0) {
        return false;
    } else {
        using N = node_at<G, I>;
        using L = typename N::layer_type;
        if constexpr (library_layer<L>() || is_merge<L>() || N::input_count != 1) return false;
        else if constexpr (!std::is_same_v<shape_at<G, I>, shape_at<G, N::inputs[0]>>) return false;
        else return structure<typename graph_with_identity_at<G, I>::type>::has_nonlinearity;
    }
}

// One user stage replaced: what was replaced (for the message) and the stage's kind.
struct replacement {
    std::string stage;  // "the batcher `previous_labels`"
    std::string by;     // "full_batch"
    std::string cause;  // "the batcher"
    std::string what() const { return stage + " is replaced by " + by; }
};

// each(replacement, variant pipeline) for every user stage of `p`, in pipeline order.
template <class D, class N, class L, class O, class B, class Ga, class... Ts, class F>
void for_each_variant(const pipeline_t<D, N, L, O, B, Ga, Ts...>& p, F&& each) {
    if constexpr (!library_batcher<B>)
        each(replacement{fmt::format("the batcher `{}`", readable_type_name<B>()), "full_batch", "the batcher"},
             pipeline_t<D, N, L, O, full_batch_t, Ga, Ts...>{p.net, p.loss, p.optimizer, full_batch, p.gather,
                                                             p.transforms});
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        [[maybe_unused]] auto one = [&]<std::size_t J>(std::integral_constant<std::size_t, J>) {
            using X = std::tuple_element_t<J, std::tuple<Ts...>>;
            if constexpr (!library_transform<X>) {
                auto swapped = [&]<std::size_t M>(std::integral_constant<std::size_t, M>) {
                    if constexpr (M == J) return unchanged_features{};
                    else return std::get<M>(p.transforms);
                };
                using V = pipeline_t<D, N, L, O, B, Ga, std::conditional_t<K == J, unchanged_features, Ts>...>;
                each(replacement{fmt::format("transform {} of {} `{}`", J + 1, sizeof...(Ts),
                                             readable_type_name<X>()),
                                 "the identity", "that transform"},
                     V{p.net, p.loss, p.optimizer, p.batcher, p.gather,
                       {swapped(std::integral_constant<std::size_t, K>{})...}});
            }
        };
        (one(std::integral_constant<std::size_t, K>{}), ...);
    }(std::index_sequence_for<Ts...>{});
    if constexpr (!library_gather<Ga>)
        each(replacement{fmt::format("the gather stage `{}`", readable_type_name<Ga>()), "in_order",
                         "the gather stage"},
             pipeline_t<D, N, L, O, B, in_order_t, Ts...>{p.net, p.loss, p.optimizer, p.batcher, in_order,
                                                          p.transforms});
    else if constexpr (std::is_same_v<Ga, in_order_t> && is_token_dataset<typename D::dataset_type> &&
                       !in_order_batcher<B>)
        each(replacement{"the gather stage `in_order` (the rows of a batch in the samples' order)", "sample_order",
                         "the gather stage"},
             pipeline_t<D, N, L, O, B, sample_order_t, Ts...>{p.net, p.loss, p.optimizer, p.batcher, sample_order,
                                                              p.transforms});
    if constexpr (!library_optimiser<O>)
        each(replacement{fmt::format("the optimiser `{}`", readable_type_name<O>()), "adam{.lr = 0.01}",
                         "the optimiser"},
             pipeline_t<D, N, L, adam, B, Ga, Ts...>{p.net, p.loss, neutral_optimiser, p.batcher, p.gather,
                                                     p.transforms});
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        auto one = [&]<std::size_t J>(std::integral_constant<std::size_t, J>) {
            if constexpr (replaceable_layer<N, J>()) {
                using R = graph_with_identity_at<N, J>;
                each(replacement{fmt::format("node {} `{}`", J, describe_layer(detail::get<J>(p.net.nodes).layer)),
                                 "an identity", "that layer"},
                     pipeline_t<D, typename R::type, L, O, B, Ga, Ts...>{R::make(p.net), p.loss, p.optimizer,
                                                                         p.batcher, p.gather, p.transforms});
            }
        };
        (one(std::integral_constant<std::size_t, I>{}), ...);
    }(std::make_index_sequence<N::size>{});
}

inline std::vector<verdict> as_verdicts(verdict v) { return {std::move(v)}; }
inline std::vector<verdict> as_verdicts(std::vector<verdict> v) { return v; }

// The sentence a failed verdict gains from the reruns: the replacements that made it pass.
inline std::string stage_sentence(const std::vector<const replacement*>& passing, std::size_t tried) {
    if (passing.size() == 1)
        return fmt::format("passes when {}: {} is the likely cause", passing[0]->what(), passing[0]->cause);
    if (!passing.empty()) {
        std::string s = "passes when ";
        for (std::size_t k = 0; k < passing.size(); ++k)
            s += (k == 0 ? "" : k + 1 == passing.size() ? ", or when " : ", when ") + passing[k]->what();
        return s + ": one of these stages is the likely cause";
    }
    return fmt::format("still fails with each of its {} user stage{} replaced in turn by the library's neutral one: "
                       "no single stage of its own is the cause",
                       tried, tried == 1 ? "" : "s");
}

}  // namespace detail

// Runs `probe(p, data, o)` (a verdict or a vector of verdicts); each failed verdict is checked
// again on every variant of `p` with one user stage replaced, and gains the sentence naming
// the replacements that made it pass (and, when one alone did, `verdict::stage`).
template <class Probe, class P, class D>
auto blame_stage(Probe&& probe, const P& p, const D& data, const probe_options& o = {}) {
    auto result = probe(p, data, o);
    if constexpr (detail::is_pipeline<P>) {
        auto verdicts = detail::as_verdicts(result);
        bool failed = false;
        for (const auto& v : verdicts) failed = failed || !v.passed;
        if (!failed) return result;
        std::vector<detail::replacement> tried;
        std::vector<std::vector<std::string>> passing_checks;  // per replacement
        detail::for_each_variant(p, [&](const detail::replacement& r, const auto& variant) {
            tried.push_back(r);
            auto& passed = passing_checks.emplace_back();
            try {
                for (const auto& v : detail::as_verdicts(probe(variant, data, o)))
                    if (v.passed) passed.push_back(v.check);
            } catch (const std::exception&) {  // a variant the data cannot run: it proves nothing
            }
        });
        if (tried.empty()) return result;
        for (auto& v : verdicts) {
            if (v.passed) continue;
            std::vector<const detail::replacement*> passing;
            for (std::size_t k = 0; k < tried.size(); ++k)
                for (const auto& c : passing_checks[k])
                    if (c == v.check) passing.push_back(&tried[k]);
            if (passing.size() == 1) v.stage = passing[0]->stage;
            v.explanation += "; " + detail::stage_sentence(passing, tried.size());
        }
        if constexpr (std::is_same_v<decltype(result), verdict>) return verdicts.front();
        else return verdicts;
    } else {
        return result;
    }
}

}  // namespace nnp

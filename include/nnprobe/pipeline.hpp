#pragma once
// A training pipeline as a typed value: data -> batcher -> transforms -> network -> loss ->
// optimiser. The probes run the pipeline as the user wrote it, own stages included.
//
//   constexpr auto pipe = pipeline(data<features<4>, classes<3>>, iris_mlp,
//                                  softmax_cross_entropy, adam{.lr = 1e-2});
//   auto mine = pipe.batches(my_batcher{}).transform(my_mask{});
//
// Stage concepts (documented by example in examples/custom_stages.cpp):
//   batcher    b(ds, step, run_seed, out) const: fill batch `out` (out.x, out.y; for token
//              data the padded ids, mask and labels: token_batches.hpp) for the given
//              training step; must be a pure function of its arguments.
//   transform  t(x) const: change a batch's input in place (features: nnp::matrix<float>;
//              token data: nnp::padded_tokens); optional t.fit(ds), called once per run on
//              the run's training data before the first step.
//   gather     g(rows, order) const, or g(row_sample, order) const to see which of the batch's
//              samples each row holds (token batches whose rows a batcher reorders): fill
//              `order` (one entry per sample) so that the network's output row order[i] is
//              the prediction for sample i of the batch; the loss, accuracy and inference see
//              the gathered rows, and gradients flow back through them.
// The checks that compare the parts (C5, C6) fire in pipeline().
#include <concepts>
#include <numeric>
#include <span>
#include <tuple>
#include <type_traits>

#include "dataset.hpp"
#include "graph.hpp"
#include "loss.hpp"
#include "model.hpp"
#include "optimizer.hpp"
#include "token_batches.hpp"

namespace nnp {

namespace detail {
template <class Features, class Labels>
struct dataset_for {
    using type = dataset<Features, Labels>;
};
template <std::size_t V, std::size_t M, std::size_t C>
struct dataset_for<tokens<V, M>, classes<C>> {
    using type = token_dataset<V, M, C>;
};
}  // namespace detail

// The data a pipeline takes, as a type: features shape (or tokens<Vocab, MaxLen>) and label
// kind.
template <class Features, class Labels>
struct data_spec {
    using features_type = Features;
    using labels_type = Labels;
    using dataset_type = typename detail::dataset_for<Features, Labels>::type;
};
template <class Features, class Labels>
inline constexpr data_spec<Features, Labels> data{};

// One batch, in buffers reused from step to step (not `batch`: a name programs use).
template <class DS>
struct batch_of {
    matrix<float> x;
    typename DS::y_type y;
    void resize(std::size_t rows) {
        detail::ensure_shape(x, rows, DS::features_type::size);
        if constexpr (DS::is_classification) y.resize(rows);
        else detail::ensure_shape(y, rows, DS::labels_type::size);
    }
};

namespace detail {
// The batch input seam: what the network is fed for a batch (features; for token data the
// padded ids with their mask and which sample each row holds), so that the mini-run and the
// probes handle both kinds of data through one notion.
template <class DS>
struct input_kind {
    using type = matrix<float>;
};
template <std::size_t V, std::size_t M, std::size_t C>
struct input_kind<token_dataset<V, M, C>> {
    using type = padded_tokens;
};
template <class DS>
using input_type = typename input_kind<DS>::type;

template <class F, class L>
matrix<float>& batch_input(batch_of<dataset<F, L>>& b) {
    return b.x;
}
template <class F, class L>
const matrix<float>& batch_input(const batch_of<dataset<F, L>>& b) {
    return b.x;
}
template <std::size_t V, std::size_t M, std::size_t C>
padded_tokens& batch_input(batch_of<token_dataset<V, M, C>>& b) {
    return b;
}
template <std::size_t V, std::size_t M, std::size_t C>
const padded_tokens& batch_input(const batch_of<token_dataset<V, M, C>>& b) {
    return b;
}
inline std::size_t input_rows(const matrix<float>& x) { return x.shape()[0]; }
inline std::size_t input_rows(const padded_tokens& x) { return x.rows(); }
// What node 0 holds: the features, or the token ids.
inline const matrix<float>& input_values(const matrix<float>& x) { return x; }
inline const matrix<float>& input_values(const padded_tokens& x) { return x.ids; }
// Which sample each row holds; null: the rows are in the samples' order.
inline const std::vector<std::size_t>* input_row_samples(const matrix<float>&) { return nullptr; }
inline const std::vector<std::size_t>* input_row_samples(const padded_tokens& x) { return &x.row_sample; }

// The network's input for a whole data set, in order, and for its samples `rows`.
template <class F, class L>
const matrix<float>& inputs_of(const dataset<F, L>& ds) {
    return ds.x;
}
template <class F, class L>
matrix<float> inputs_of(const dataset<F, L>& ds, const std::vector<std::size_t>& rows) {
    matrix<float> x = float_matrix(rows.size(), F::size);
    for (std::size_t k = 0; k < rows.size(); ++k)
        std::copy_n(ds.x.data() + rows[k] * F::size, F::size, x.data() + k * F::size);
    return x;
}
template <class F, class L>
const auto& labels_of(const dataset<F, L>& ds) {
    return ds.y;
}
// The samples `rows` of a data set of features (sample rows[k] in row k).
template <class F, class L>
void fill_batch(const dataset<F, L>& ds, std::span<const std::size_t> rows, batch_of<dataset<F, L>>& out) {
    out.resize(rows.size());
    for (std::size_t k = 0; k < rows.size(); ++k) copy_sample(ds, rows[k], out.x, out.y, k);
}
}  // namespace detail

// Every sample, in order, every step (token data: padded to the longest sample).
struct full_batch_t {
    template <class DS>
    void operator()(const DS& ds, std::size_t, seed, batch_of<DS>& out) const {
        out.resize(ds.size());
        for (std::size_t i = 0; i < ds.size(); ++i) detail::copy_sample(ds, i, out.x, out.y, i);
    }
    template <std::size_t V, std::size_t M, std::size_t C>
    void operator()(const token_dataset<V, M, C>& ds, std::size_t, seed, batch_of<token_dataset<V, M, C>>& out) const {
        std::vector<std::size_t> all(ds.size());
        std::iota(all.begin(), all.end(), std::size_t{0});
        detail::fill_batch(ds, all, out);
    }
};
inline constexpr full_batch_t full_batch{};

// Mini-batches of `size`, the sample order reshuffled every epoch from the run's seed (token
// data: each batch padded to its own longest sample).
struct shuffled_batches {
    std::size_t size = 16;
    template <class DS>
    void operator()(const DS& ds, std::size_t step, seed s, batch_of<DS>& out) const {
        if (size == 0) throw data_error("nnprobe: shuffled_batches: the batch size must be at least 1");
        if (ds.size() == 0) throw data_error("nnprobe: shuffled_batches: the data set is empty");
        const std::size_t b = std::min(size, ds.size());
        const std::size_t per_epoch = ds.size() / b;
        std::vector<std::size_t> order(ds.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        rng(s).fork(step / per_epoch).shuffle(order.begin(), order.end());
        const std::size_t first = (step % per_epoch) * b;
        detail::fill_batch(ds, std::span<const std::size_t>(order).subspan(first, b), out);
    }
};

// Standardise the features with statistics fitted on the run's training data.
struct standardised_t {
    standardiser fitted;
    template <class DS>
    void fit(const DS& ds) { fitted = standardiser::fit(ds.x); }
    void operator()(matrix<float>& x) const { fitted.apply(x); }
};
inline const standardised_t standardised{};

// Output gathering: which output row stands for which sample. The identity unless the
// pipeline reorders (e.g. a batcher that sorts samples and a gather that restores the order).
struct in_order_t {
    void operator()(std::size_t rows, std::vector<std::size_t>& order) const {
        order.resize(rows);
        std::iota(order.begin(), order.end(), std::size_t{0});
    }
};
inline constexpr in_order_t in_order{};

template <class Data, class Net, class Loss, class Opt, class Batcher, class Gather, class... Transforms>
struct pipeline_t;

// The result of pipeline() (or of a stage) after a failed check: it absorbs what a program
// does with a pipeline next (more stages, make_model on its net; the probes have their
// overloads), so that only the check's own message is printed.
struct invalid_pipeline {
    invalid_graph net;
    template <class X>
    constexpr invalid_pipeline batches(const X&) const { return {}; }
    template <class X>
    constexpr invalid_pipeline gathered(const X&) const { return {}; }
    template <class X>
    constexpr invalid_pipeline transform(const X&) const { return {}; }
    template <class X>
    constexpr invalid_pipeline optimise_with(const X&) const { return {}; }
};

namespace detail {
template <class P>
inline constexpr bool is_pipeline = false;
template <class... A>
inline constexpr bool is_pipeline<pipeline_t<A...>> = true;

// Diagnostic stand-ins: g++ shows them, filled in, on the line after the message.
template <class Loss, class Labels>
struct binary_cross_entropy_needs_two_classes {
    static constexpr bool value = false;
};
template <class Batcher, class Dataset>
struct batcher_with_the_wrong_call_signature {
    static constexpr bool value = false;
};
template <class Transform>
struct transform_with_the_wrong_call_signature {
    static constexpr bool value = false;
};
template <class Transform, class Dataset>
struct transform_whose_fit_does_not_take_the_data_set {
    static constexpr bool value = false;
};
template <class Gather>
struct gather_with_the_wrong_call_signature {
    static constexpr bool value = false;
};
template <class Loss, class Labels>
struct loss_with_the_wrong_call_signature {
    static constexpr bool value = false;
};

// The stage concepts (see the top of this file), as the mini-run calls them.
template <class B, class DS>
concept batcher_for = requires(const B& b, const DS& ds, std::size_t step, seed s, batch_of<DS>& out) {
    b(ds, step, s, out);
};
template <class X, class DS>
concept transform_stage = requires(const X& t, input_type<DS>& x) { t(x); };
// A transform with a (non-template) member fit that the data set cannot be given to: it
// would be skipped silently.
template <class X, class DS>
concept fit_misses_the_data_set = requires { &X::fit; } && !requires(X& t, const DS& ds) { t.fit(ds); };
template <class X>
concept gather_by_rows = requires(const X& g, std::size_t rows, std::vector<std::size_t>& order) {
    g(rows, order);
};
template <class X>
concept gather_by_samples = requires(const X& g, const std::vector<std::size_t>& row_sample,
                                     std::vector<std::size_t>& order) { g(row_sample, order); };
template <class X>
concept gather_stage = gather_by_rows<X> || gather_by_samples<X>;
// The order a gather stage gives for a batch of `rows` rows; `row_sample` says which sample
// each row holds (null: the rows are in the samples' order).
template <class X>
void gather_order(const X& g, std::size_t rows, const std::vector<std::size_t>* row_sample,
                  std::vector<std::size_t>& order) {
    if constexpr (gather_by_rows<X>) {
        g(rows, order);
    } else if (row_sample) {
        g(*row_sample, order);
    } else {
        std::vector<std::size_t> in_order(rows);
        std::iota(in_order.begin(), in_order.end(), std::size_t{0});
        g(in_order, order);
    }
}
template <class Loss, class DS>
concept loss_for = requires(const Loss& l, const matrix<float>& out, const typename DS::y_type& y,
                            matrix<float>& grad) {
    { l(out, y, grad) } -> std::convertible_to<double>;
};
template <class OutputShape, class Labels>
struct output_width_differs_from_labels {
    static constexpr bool value = false;
};
template <class DataFeatures, class NetworkInput>
struct data_shape_differs_from_network_input {
    static constexpr bool value = false;
};
template <class DataTokens, class NetworkInput>
struct token_data_differs_from_network_input {
    static constexpr bool value = false;
};
template <class DataTokens, class EmbeddingNode>
struct data_vocabulary_exceeds_embedding {
    static constexpr bool value = false;
};
template <class Labels>
struct token_data_needs_class_labels {
    static constexpr bool value = false;
};

// The network input token data needs: token_input<MaxLen>'s ids.
template <class F>
struct network_input_for {
    using type = F;
};
template <std::size_t V, std::size_t M>
struct network_input_for<tokens<V, M>> {
    using type = sequence<M, 1>;
};
// The first node that reads the ids (node 0) and declares a vocabulary (embedding<V, D>) but
// whose vocabulary is smaller than the data's; npos when there is none.
template <class G, std::size_t Vocab, std::size_t... I>
constexpr std::size_t short_vocabulary(std::index_sequence<I...>) {
    std::size_t found = npos;
    auto one = [&]<std::size_t K>(std::integral_constant<std::size_t, K>) {
        using N = node_at<G, K + 1>;
        if constexpr (requires { layer_at<G, K + 1>::vocabulary; }) {
            bool reads_ids = false;
            for (std::size_t in : N::inputs) reads_ids = reads_ids || in == 0;
            if (found == npos && reads_ids && layer_at<G, K + 1>::vocabulary < Vocab) found = K + 1;
        }
    };
    (one(std::integral_constant<std::size_t, I>{}), ...);
    return found;
}
template <class G, class F>
constexpr std::size_t embedding_short_of_data() {
    if constexpr (is_tokens<F>) return short_vocabulary<G, F::vocabulary>(std::make_index_sequence<G::size - 1>{});
    else return npos;
}
template <class Loss, class Labels>
struct loss_does_not_fit_the_labels {
    static constexpr bool value = false;
};

// C5: does the output fit the loss and the labels?
template <class G, class Loss, class L>
constexpr bool output_fits_labels() {
    constexpr std::size_t out = shape_at<G, G::size - 1>::size;
    if constexpr (std::is_same_v<Loss, softmax_cross_entropy_t>) {
        if constexpr (is_classes<L>) return out == L::count;
        else return false;
    } else if constexpr (std::is_same_v<Loss, binary_cross_entropy_t>) {
        if constexpr (is_classes<L>) return out == 1;  // two classes: checked before
        else return out == L::size;
    } else if constexpr (is_targets<L>) {
        return out == L::size;
    } else {
        return true;  // a user-defined loss: it states nothing we can check
    }
}
template <class Loss, class L>
constexpr bool loss_fits_label_kind() {
    if constexpr (requires { Loss::is_classification; })
        return !(Loss::is_classification == false && is_classes<L>) &&
               !(std::is_same_v<Loss, softmax_cross_entropy_t> && is_targets<L>);
    else return true;
}
template <class Loss, class L>
constexpr bool binary_with_other_than_two_classes() {
    if constexpr (is_classes<L>) return std::is_same_v<Loss, binary_cross_entropy_t> && L::count != 2;
    else return false;
}
}  // namespace detail

template <class Data, class Net, class Loss, class Opt, class Batcher, class Gather, class... Transforms>
struct pipeline_t {
    using data_type = Data;
    using dataset_type = typename Data::dataset_type;
    using graph_type = Net;
    using loss_type = Loss;
    using optimizer_type = Opt;
    using gather_type = Gather;

    Net net;
    Loss loss;
    Opt optimizer;
    Batcher batcher;
    Gather gather;
    std::tuple<Transforms...> transforms;

    // A copy with another batcher, another output gathering, another optimiser, or one more
    // transform after the existing ones.
    // Each checks its stage's concept where the stage is given.
    template <class B>
    constexpr auto batches(B b) const {
        if constexpr (!detail::batcher_for<B, dataset_type>) {
            static_assert(detail::batcher_with_the_wrong_call_signature<B, dataset_type>::value,
                          "nnprobe: this batcher cannot be called as b(ds, step, run_seed, out): "
                          "it needs `void operator()(const DS& ds, std::size_t step, nnp::seed "
                          "run_seed, nnp::batch_of<DS>& out) const`");
            return invalid_pipeline{};
        } else {
            return pipeline_t<Data, Net, Loss, Opt, B, Gather, Transforms...>{net, loss, optimizer, b, gather, transforms};
        }
    }
    template <class X>
    constexpr auto gathered(X x) const {
        if constexpr (!detail::gather_stage<X>) {
            static_assert(detail::gather_with_the_wrong_call_signature<X>::value,
                          "nnprobe: this gather stage cannot be called as g(rows, order): it needs "
                          "`void operator()(std::size_t rows, std::vector<std::size_t>& order) const`, "
                          "or, to see which sample each row holds, `void operator()(const "
                          "std::vector<std::size_t>& row_sample, std::vector<std::size_t>& order) const`");
            return invalid_pipeline{};
        } else {
            return pipeline_t<Data, Net, Loss, Opt, Batcher, X, Transforms...>{net, loss, optimizer, batcher, x, transforms};
        }
    }
    template <class X>
    constexpr auto transform(X x) const {
        if constexpr (!detail::transform_stage<X, dataset_type>) {
            static_assert(detail::transform_with_the_wrong_call_signature<X>::value,
                          "nnprobe: this transform cannot be called as t(x): it needs `void "
                          "operator()(X& x) const`, X the batch's input: nnp::matrix<float> for "
                          "features, nnp::padded_tokens for token data");
            return invalid_pipeline{};
        } else if constexpr (detail::fit_misses_the_data_set<X, dataset_type>) {
            static_assert(detail::transform_whose_fit_does_not_take_the_data_set<X, dataset_type>::value,
                          "nnprobe: this transform's fit cannot be given the training data: it needs "
                          "`void fit(const DS& ds)` (or a template), else it is never called");
            return invalid_pipeline{};
        } else {
            return pipeline_t<Data, Net, Loss, Opt, Batcher, Gather, Transforms..., X>{
                net, loss, optimizer, batcher, gather, std::tuple_cat(transforms, std::tuple<X>{x})};
        }
    }
    template <class O>
    constexpr auto optimise_with(O o) const {
        if constexpr (!detail::known_optimiser<O>) {
            static_assert(detail::unknown_optimiser<O>::value, NNP_DETAIL_UNKNOWN_OPTIMISER_TEXT);
            return invalid_pipeline{};
        } else {
            return pipeline_t<Data, Net, Loss, O, Batcher, Gather, Transforms...>{net, loss, o, batcher, gather, transforms};
        }
    }
};

// The user-facing entry point, where C5 and C6 fire, and the graph's whole-graph checks as
// in make_model (the probes build their models from a pipeline). Each static_assert stands
// here, not in a helper: every nested call is one more line before the message.
template <class F, class L, class Net, class Loss, class Opt>
constexpr auto pipeline(data_spec<F, L>, const Net& net, Loss loss, Opt opt) {
    using G = detail::flat_graph_t<Net>;  // the checks read the graph the pipeline holds
    using DS = typename data_spec<F, L>::dataset_type;
    if constexpr (std::is_same_v<G, invalid_graph>) {
        return invalid_pipeline{};  // the graph's own check already spoke
    } else if constexpr (!detail::is_graph<G>) {
        static_assert(detail::not_a_graph<G>::value,
                      "nnprobe: pipeline takes a graph: input<...> | layer | ...");
        return invalid_pipeline{};
    } else if constexpr (G::cursor != G::size - 1) {
        static_assert(detail::graph_ends_with_from<
                          detail::node_ref<G::cursor, detail::layer_at<G, G::cursor>>>::value,
                      NNP_DETAIL_TRAILING_FROM_TEXT);
        return invalid_pipeline{};
    } else if constexpr (detail::structure<G>::first_unreachable != detail::npos) {
        constexpr std::size_t i = detail::structure<G>::first_unreachable;
        static_assert(detail::node_does_not_reach_output<
                          detail::node_ref<i, detail::layer_at<G, i>>>::value,
                      NNP_DETAIL_C4_TEXT);
        return invalid_pipeline{};
    } else if constexpr (!detail::structure<G>::has_nonlinearity) {
        static_assert(detail::network_is_affine_in_its_input<
                          detail::node_ref<0, detail::shape_at<G, 0>>,
                          detail::node_ref<G::size - 1, detail::layer_at<G, G::size - 1>>>::value,
                      NNP_DETAIL_C3_TEXT);
        return invalid_pipeline{};
    } else if constexpr (detail::runtime_parts<float, G>::fault == detail::impl_fault::no_impl) {
        static_assert(detail::layer_without_runtime_part<typename detail::runtime_parts<float, G>::node>::value,
                      NNP_DETAIL_NO_IMPL_TEXT);
        return invalid_pipeline{};
    } else if constexpr (detail::runtime_parts<float, G>::fault == detail::impl_fault::no_forward) {
        static_assert(detail::runtime_part_without_forward<typename detail::runtime_parts<float, G>::node>::value,
                      NNP_DETAIL_NO_FORWARD_TEXT);
        return invalid_pipeline{};
    } else if constexpr (detail::runtime_parts<float, G>::fault == detail::impl_fault::no_backward) {
        static_assert(detail::runtime_part_without_backward<typename detail::runtime_parts<float, G>::node>::value,
                      NNP_DETAIL_NO_BACKWARD_TEXT);
        return invalid_pipeline{};
    } else if constexpr (detail::is_tokens<F> && !detail::is_classes<L>) {
        static_assert(detail::token_data_needs_class_labels<L>::value,
                      "nnprobe: token data takes class labels: data<tokens<Vocab, MaxLen>, classes<C>>");
        return invalid_pipeline{};
    } else if constexpr (detail::is_tokens<F> &&
                         !std::is_same_v<typename detail::network_input_for<F>::type, detail::shape_at<G, 0>>) {
        static_assert(detail::token_data_differs_from_network_input<F, detail::shape_at<G, 0>>::value,
                      "nnprobe: C6: token data of tokens<Vocab, MaxLen> needs a network that starts with "
                      "token_input<MaxLen>, the same MaxLen (node 0)");
        return invalid_pipeline{};
    } else if constexpr (detail::embedding_short_of_data<G, F>() != detail::npos) {
        constexpr std::size_t e = detail::embedding_short_of_data<G, F>();
        static_assert(detail::data_vocabulary_exceeds_embedding<F, detail::node_ref<e, detail::layer_at<G, e>>>::value,
                      "nnprobe: C6: the data's token ids do not fit the embedding's table: its "
                      "vocabulary is smaller than the data's (ids up to Vocab - 1 of tokens<Vocab, MaxLen>)");
        return invalid_pipeline{};
    } else if constexpr (!detail::is_tokens<F> && !std::is_same_v<F, detail::shape_at<G, 0>>) {
        static_assert(detail::data_shape_differs_from_network_input<F, detail::shape_at<G, 0>>::value,
                      "nnprobe: C6: the data's feature shape differs from the network's input "
                      "shape (node 0)");
        return invalid_pipeline{};
    } else if constexpr (!detail::known_optimiser<Opt>) {
        static_assert(detail::unknown_optimiser<Opt>::value, NNP_DETAIL_UNKNOWN_OPTIMISER_TEXT);
        return invalid_pipeline{};
    } else if constexpr (detail::expects_logits<Loss>() &&
                         detail::structure<G>::probability_head != detail::npos) {
        constexpr std::size_t h = detail::structure<G>::probability_head;
        static_assert(detail::softmax_output_fed_to_a_loss_that_expects_logits<
                          detail::node_ref<h, detail::layer_at<G, h>>, Loss>::value,
                      NNP_DETAIL_C5_SOFTMAX_TEXT);
        return invalid_pipeline{};
    } else if constexpr (!detail::loss_fits_label_kind<Loss, L>()) {
        static_assert(detail::loss_does_not_fit_the_labels<Loss, L>::value,
                      "nnprobe: C5: the loss does not fit the labels: classes<C> need a "
                      "classification loss, targets<...> a regression loss");
        return invalid_pipeline{};
    } else if constexpr (!detail::loss_for<Loss, DS>) {
        static_assert(detail::loss_with_the_wrong_call_signature<Loss, L>::value,
                      "nnprobe: this loss cannot be called as loss(output, labels, grad): it needs "
                      "`T operator()(const nnp::matrix<T>& out, const Y& labels, nnp::matrix<T>& "
                      "grad) const`, Y the labels' type (std::vector<int> for classes<C>, "
                      "nnp::matrix<T> for targets<...>)");
        return invalid_pipeline{};
    } else if constexpr (detail::binary_with_other_than_two_classes<Loss, L>()) {
        static_assert(detail::binary_cross_entropy_needs_two_classes<Loss, L>::value,
                      "nnprobe: C5: binary cross-entropy needs two classes (or targets): for "
                      "classes<C> with C > 2 use softmax_cross_entropy");
        return invalid_pipeline{};
    } else if constexpr (!detail::output_fits_labels<G, Loss, L>()) {
        static_assert(detail::output_width_differs_from_labels<
                          detail::node_ref<G::size - 1, detail::shape_at<G, G::size - 1>>, L>::value,
                      "nnprobe: C5: the output's width differs from the labels: one logit per "
                      "class (softmax_cross_entropy), one per binary label, or the target's shape");
        return invalid_pipeline{};
    } else {
        return pipeline_t<data_spec<F, L>, G, Loss, Opt, full_batch_t, in_order_t>{detail::flatten(net), loss, opt, full_batch,
                                                                                in_order, {}};
    }
}

}  // namespace nnp

#pragma once
// A training pipeline as a typed value: data -> batcher -> transforms -> network -> loss ->
// optimiser. The probes run the pipeline as the user wrote it, own stages included.
//
//   constexpr auto pipe = pipeline(data<features<4>, classes<3>>, iris_mlp,
//                                  softmax_cross_entropy, adam{.lr = 1e-2});
//   auto mine = pipe.batches(my_batcher{}).transform(my_mask{});
//
// Stage concepts (documented by example in examples/custom_stages.cpp):
//   batcher    b(ds, step, run_seed, out) const: fill batch `out` (out.x, out.y) for the given
//              training step; must be a pure function of its arguments.
//   transform  t(x) const: change a batch's features in place; optional t.fit(ds), called
//              once per run on the run's training data before the first step.
//   gather     g(rows, order) const: fill `order` (rows entries) so that the network's output
//              row order[i] is the prediction for sample i of the batch; the loss, accuracy
//              and inference see the gathered rows, and gradients flow back through them.
// The checks that compare the parts (C5, C6) fire in pipeline().
#include <numeric>
#include <tuple>
#include <type_traits>

#include "dataset.hpp"
#include "graph.hpp"
#include "loss.hpp"
#include "model.hpp"
#include "optimizer.hpp"

namespace nnp {

// The data a pipeline takes, as a type: features shape and label kind.
template <class Features, class Labels>
struct data_spec {
    using features_type = Features;
    using labels_type = Labels;
    using dataset_type = dataset<Features, Labels>;
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

// Every sample, in order, every step.
struct full_batch_t {
    template <class DS>
    void operator()(const DS& ds, std::size_t, seed, batch_of<DS>& out) const {
        out.resize(ds.size());
        for (std::size_t i = 0; i < ds.size(); ++i) detail::copy_sample(ds, i, out.x, out.y, i);
    }
};
inline constexpr full_batch_t full_batch{};

// Mini-batches of `size`, the sample order reshuffled every epoch from the run's seed.
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
        out.resize(b);
        const std::size_t first = (step % per_epoch) * b;
        for (std::size_t i = 0; i < b; ++i) detail::copy_sample(ds, order[first + i], out.x, out.y, i);
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

namespace detail {
template <class P>
inline constexpr bool is_pipeline = false;
template <class... A>
inline constexpr bool is_pipeline<pipeline_t<A...>> = true;

template <class G>
constexpr bool head_outputs_probabilities() {
    using L = layer_at<G, G::size - 1>;
    if constexpr (requires { L::outputs_probabilities; })
        return L::outputs_probabilities || L::outputs_log_probabilities;
    else return false;
}

// Diagnostic stand-ins: g++ shows them, filled in, on the line after the message.
template <class Head, class Loss>
struct softmax_output_fed_to_a_loss_that_expects_logits {
    static constexpr bool value = false;
};
template <class OutputShape, class Labels>
struct output_width_differs_from_labels {
    static constexpr bool value = false;
};
template <class DataFeatures, class NetworkInput>
struct data_shape_differs_from_network_input {
    static constexpr bool value = false;
};
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
        if constexpr (is_classes<L>) return L::count == 2 && out == 1;
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
template <class Loss>
constexpr bool expects_logits() {
    if constexpr (requires { Loss::expects_logits; }) return Loss::expects_logits;
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
    template <class B>
    constexpr auto batches(B b) const {
        return pipeline_t<Data, Net, Loss, Opt, B, Gather, Transforms...>{net, loss, optimizer, b, gather, transforms};
    }
    template <class X>
    constexpr auto gathered(X x) const {
        return pipeline_t<Data, Net, Loss, Opt, Batcher, X, Transforms...>{net, loss, optimizer, batcher, x, transforms};
    }
    template <class X>
    constexpr auto transform(X x) const {
        return pipeline_t<Data, Net, Loss, Opt, Batcher, Gather, Transforms..., X>{
            net, loss, optimizer, batcher, gather, std::tuple_cat(transforms, std::tuple<X>{x})};
    }
    template <class O>
    constexpr auto optimise_with(O o) const {
        return pipeline_t<Data, Net, Loss, O, Batcher, Gather, Transforms...>{net, loss, o, batcher, gather, transforms};
    }
};

// The result of pipeline() after a failed check: inert, so only that message is printed.
struct invalid_pipeline {};

// The user-facing entry point, where C5 and C6 fire (and C3, C4 as in make_model).
template <class F, class L, class G, class Loss, class Opt>
constexpr auto pipeline(data_spec<F, L>, const G& net, Loss loss, Opt opt) {
    if constexpr (std::is_same_v<G, invalid_graph>) {
        return invalid_pipeline{};  // the graph's own check already spoke
    } else NNP_DETAIL_CHECK_WHOLE_GRAPH(G, invalid_pipeline) if constexpr (!std::is_same_v<F, detail::shape_at<G, 0>>) {
        static_assert(detail::data_shape_differs_from_network_input<F, detail::shape_at<G, 0>>::value,
                      "nnprobe: C6: the data's feature shape differs from the network's input "
                      "shape (node 0)");
        return invalid_pipeline{};
    } else if constexpr (detail::expects_logits<Loss>() && detail::head_outputs_probabilities<G>()) {
        static_assert(detail::softmax_output_fed_to_a_loss_that_expects_logits<
                          detail::node_ref<G::size - 1, detail::layer_at<G, G::size - 1>>, Loss>::value,
                      "nnprobe: C5: the network ends in softmax but the loss expects logits: "
                      "softmax would be applied twice. Remove the final softmax");
        return invalid_pipeline{};
    } else if constexpr (!detail::loss_fits_label_kind<Loss, L>()) {
        static_assert(detail::loss_does_not_fit_the_labels<Loss, L>::value,
                      "nnprobe: C5: the loss does not fit the labels: classes<C> need a "
                      "classification loss, targets<...> a regression loss");
        return invalid_pipeline{};
    } else if constexpr (!detail::output_fits_labels<G, Loss, L>()) {
        static_assert(detail::output_width_differs_from_labels<
                          detail::node_ref<G::size - 1, detail::shape_at<G, G::size - 1>>, L>::value,
                      "nnprobe: C5: the output's width differs from the labels: one logit per "
                      "class (softmax_cross_entropy), one per binary label, or the target's shape");
        return invalid_pipeline{};
    } else {
        return pipeline_t<data_spec<F, L>, G, Loss, Opt, full_batch_t, in_order_t>{net, loss, opt, full_batch,
                                                                                in_order, {}};
    }
}

}  // namespace nnp

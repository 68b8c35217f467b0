#pragma once
// A graph instantiated at a scalar type: parameters, per-node outputs and gradients, forward
// and backward over a batch. Everything a probe needs is reachable by node index or name.
//
//   auto m = nnp::make_model(net, nnp::seed{7});          // float
//   auto d = nnp::make_model<double>(net, nnp::seed{7});  // the same graph in double
#include <array>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include <fmt/core.h>

#include "error.hpp"
#include "flat_tuple.hpp"
#include "graph.hpp"
#include "layers/activations.hpp"
#include "layers/conv.hpp"
#include "layers/dense.hpp"
#include "layers/dropout.hpp"
#include "layers/normalisation.hpp"
#include "layers/pooling.hpp"
#include "layers/softmax.hpp"
#include "random.hpp"
#include "sequence.hpp"
#include "tensor.hpp"

namespace nnp {

// A trainable tensor of some node, as flat memory: what optimisers and probes loop over.
template <class T>
struct param_ref {
    std::size_t node;       // index of the node that owns it
    std::string name;       // "weight", "bias", "gamma", ...
    T* value;
    T* grad;
    std::size_t size;
    bool trainable;         // false for a node declared .frozen()
    double lr_scale;        // from .lr_scale(k)
};

// What a probe or a report says about a node.
struct node_info {
    std::size_t index;
    std::string layer;       // "dense<16>"
    std::string name;        // the name given with named<...>, or ""
    std::string shape;       // per-sample output shape, "16" or "3x8x8"
    linearity_class linearity;
    std::vector<std::size_t> inputs;
    bool has_params;
    bool couples_batch;      // batch norm in training mixes the samples of a batch
    // "node 3 dense<3> \"head\"": how messages name a node.
    std::string label() const {
        return name.empty() ? fmt::format("node {} {}", index, layer)
                            : fmt::format("node {} {} \"{}\"", index, layer, name);
    }
};

namespace detail {

template <class S>
std::string shape_text() {
    if constexpr (is_sequence<S>)
        return "Tx" + std::to_string(S::width) + (S::padded ? " (padded, T<=" : " (T<=") +
               std::to_string(S::max_length) + ")";
    std::string s;
    for (std::size_t k = 0; k < S::rank; ++k) s += (k ? "x" : "") + std::to_string(S::dims[k]);
    return s;
}

template <class L>
constexpr init_spec::kind_t preferred_init() {
    if constexpr (requires { L::preferred_init; }) return L::preferred_init;
    else return init_spec::automatic;
}
template <class L>
constexpr bool couples_batch() {
    if constexpr (requires { L::couples_batch; }) return L::couples_batch;
    else return false;
}

// Appends node i's description: out of line (src/model.cpp), not once per node of every model.
void add_node_info(std::vector<node_info>& nodes, std::size_t i, std::string layer, std::string_view name,
                   std::string shape, linearity_class lin, const std::size_t* inputs, std::size_t input_count,
                   bool couples_batch);

struct no_impl {};  // the input node has no runtime part

template <class T, class G, std::size_t I>
struct impl_of {
    using type = typename layer_at<G, I>::template impl<T, shape_at<G, node_at<G, I>::inputs[0]>>;
};
template <class T, class G>
struct impl_of<T, G, 0> {
    using type = no_impl;
};
// A node's runtime part in the model. Its constructor and destructor are out of line, one
// function per kind of node: inline, a deep graph's model constructs and destroys every node's
// buffers in one long function (out of line: 2.6% fewer compiler instructions at 200 nodes).
template <class Impl>
struct node_slot {
    Impl impl;
    [[gnu::noinline]] node_slot() : impl() {}
    [[gnu::noinline]] ~node_slot() {}
    node_slot(const node_slot&) = default;
    node_slot(node_slot&&) = default;
};
template <class T, class G, class Seq = std::make_index_sequence<G::size>>
struct impl_tuple;
template <class T, class G, std::size_t... I>
struct impl_tuple<T, G, std::index_sequence<I...>> {
    using type = flat_tuple<node_slot<typename impl_of<T, G, I>::type>...>;
};

// Diagnostic stand-ins for the whole-graph checks (own `value`, not std::false_type's, so
// that g++'s "evaluates to false" note names the nodes; see graph.hpp).
template <class Node>
struct node_does_not_reach_output {
    static constexpr bool value = false;
};
template <class Input, class Output>
struct network_is_affine_in_its_input {
    static constexpr bool value = false;
};
template <class Argument, class Expected>
struct forward_input_would_dangle {
    static constexpr bool value = false;
};
template <std::size_t Index, std::size_t NodeCount>
struct node_index_past_the_last_node {
    static constexpr bool value = false;
};

}  // namespace detail

template <class T, class G>
class model {
    using S = detail::structure<G>;

public:
    using scalar = T;
    using graph_type = G;
    static constexpr std::size_t node_count = G::size;
    static constexpr std::size_t input_size = detail::shape_at<G, 0>::size;
    static constexpr std::size_t output_size = detail::shape_at<G, G::size - 1>::size;
    // A sequence model: its input is a batch of token sequences (sequence.hpp).
    static constexpr bool sequential = detail::is_sequence<detail::shape_at<G, 0>>;

    explicit model(const G& g, seed s = {}) : graph_(g) {
        describe_nodes(std::make_index_sequence<node_count>{});
        reset(s);
    }
    model(const model&) = delete;
    model& operator=(const model&) = delete;
    // Moving keeps xtensor's heap buffers in place; the parameter views are rebuilt anyway.
    model(model&& o) noexcept
        : graph_(o.graph_), impls_(std::move(o.impls_)), out_(std::move(o.out_)),
          grad_(std::move(o.grad_)), scratch_(std::move(o.scratch_)), nodes_(std::move(o.nodes_)),
          seed_(o.seed_), pass_rng_(o.pass_rng_), last_mode_(o.last_mode_),
          input_gradient_(o.input_gradient_), full_mask_(std::move(o.full_mask_)) {
        mask_ = o.mask_ == &o.full_mask_ ? &full_mask_ : o.mask_;
        collect_params();
    }

    // Re-initialise every parameter from a seed: each node draws from its own stream.
    void reset(seed s) {
        seed_ = s;
        pass_rng_ = rng(s).fork(0xda7a);
        init_nodes(std::make_index_sequence<node_count>{});
        collect_params();
    }

    // Forward over a batch (rows = samples); returns the output node's values.
    const matrix<T>& forward(const matrix<T>& x, mode m = mode::train) {
        if constexpr (sequential) {
            // No mask given: every sample is real over the whole batch length.
            check_sequence_input(x);
            full_mask_.assign(std::vector<std::size_t>(x.shape()[0], x.shape()[1] / input_width), x.shape()[1] / input_width);
            return forward_sequences(x, full_mask_, m);
        }
        if (x.dimension() != 2 || x.shape()[1] != input_size)
            throw error(fmt::format("nnprobe: input batch has {} columns, the network's input "
                                    "node 0 takes {} per sample",
                                    x.shape()[1], input_size));
        if (x.shape()[0] == 0)
            throw error("nnprobe: input batch has 0 rows: a forward pass needs at least one sample");
        x_ = &x;
        last_mode_ = m;
        context ctx{m, &pass_rng_, nullptr};
        forward_nodes(ctx, std::make_index_sequence<node_count - 1>{});
        return out_[node_count - 1];
    }

    // Forward over a batch of padded sequences: rows = samples, columns = the batch's length
    // (token ids), `mask` = each sample's real length.
    const matrix<T>& forward(const matrix<T>& x, const padding_mask& mask, mode m = mode::train)
        requires sequential
    {
        check_sequence_input(x);
        if (mask.rows() != x.shape()[0] || mask.length() * input_width != x.shape()[1])
            throw error(fmt::format("nnprobe: the padding mask covers {} samples of length {}, the "
                                    "batch has {} samples of length {}",
                                    mask.rows(), mask.length(), x.shape()[0],
                                    x.shape()[1] / input_width));
        return forward_sequences(x, mask, m);
    }
    // The mask of the last forward pass (sequence models).
    const padding_mask& mask() const
        requires sequential
    {
        return *mask_;
    }

    // forward keeps a reference to its input (output(0) and backward read it), so it takes
    // only a matrix<T> the caller keeps: not a temporary, and not a batch of another type,
    // which would be converted into a temporary.
    template <class X>
        requires(!std::is_same_v<X, matrix<T>&> && !std::is_same_v<X, const matrix<T>&>)
    const matrix<T>& forward(X&&, mode = mode::train) {
        static_assert(detail::forward_input_would_dangle<X&&, matrix<T>>::value,
                      "nnprobe: model::forward keeps a reference to its input batch: pass a "
                      "named matrix of the model's scalar type, not a temporary or a batch that "
                      "must first be converted (convert it into a matrix you keep)");
        return out_[node_count - 1];
    }

    // The gradient of the loss with respect to the output, for the loss to fill.
    matrix<T>& output_grad() {
        auto& g = grad_[node_count - 1];
        detail::ensure_shape(g, rows(), cols(node_count - 1));
        return g;
    }

    // Backward from output_grad(): fills every parameter gradient, every node's output
    // gradient and, when enabled, the input's.
    void backward() {
        context ctx{last_mode_, &pass_rng_, mask_};
        for (std::size_t j = 0; j + 1 < node_count; ++j)
            if (S::consumers[j] > 1) {
                detail::ensure_shape(grad_[j], rows(), cols(j));
                grad_[j].fill(T(0));
            }
        backward_nodes(ctx, std::make_index_sequence<node_count - 1>{});
    }

    // For probes that edit what a node passed on and watch what follows: node i's output
    // buffer (i > 0; node 0's output is the caller's batch), and a forward pass of the nodes
    // after node `first` on the outputs stored now (after a forward pass of the same batch).
    matrix<T>& output_buffer(std::size_t i) { return out_.at(i); }
    const matrix<T>& forward_after(std::size_t first, mode m = mode::eval) {
        last_mode_ = m;
        context ctx{m, &pass_rng_, mask_};
        forward_nodes_after(first, ctx, std::make_index_sequence<node_count - 1>{});
        return out_[node_count - 1];
    }

    // Compute d loss / d input as well (off by default: it costs a matrix product).
    void enable_input_gradient(bool on = true) { input_gradient_ = on; }

    const matrix<T>& output(std::size_t i) const { return i == 0 ? *x_ : out_.at(i); }
    const matrix<T>& output() const { return out_[node_count - 1]; }
    const matrix<T>& gradient(std::size_t i) const { return grad_.at(i); }
    const std::vector<param_ref<T>>& params() const { return params_; }
    const std::vector<node_info>& nodes() const { return nodes_; }
    const node_info& node(std::size_t i) const { return nodes_.at(i); }
    std::size_t index_of(std::string_view name) const {
        for (const auto& n : nodes_)
            if (n.name == name) return n.index;
        throw error(fmt::format("nnprobe: no node is named \"{}\"", name));
    }
    // The runtime part of node I, for tests and custom probes.
    template <std::size_t I>
    auto& layer() {
        if constexpr (I < node_count) {
            return detail::get<I>(impls_).impl;
        } else {
            static_assert(detail::node_index_past_the_last_node<I, node_count>::value,
                          "nnprobe: layer<I>(): there is no node I: the nodes are 0 (the input) "
                          "to node_count - 1");
            static detail::no_impl none;
            return none;
        }
    }
    const G& graph() const { return graph_; }
    seed initial_seed() const { return seed_; }
    std::size_t rows() const { return x_ ? x_->shape()[0] : 0; }

private:
    // Elements per sample of each node's output.
    static constexpr std::array<std::size_t, node_count> out_cols_ = [] {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return std::array<std::size_t, node_count>{detail::shape_at<G, I>::size...};
        }(std::make_index_sequence<node_count>{});
    }();
    static constexpr std::size_t out_cols(std::size_t i) { return out_cols_[i]; }
    // Per-position widths (0: not a sequence node).
    static constexpr std::array<std::size_t, node_count> widths_ = [] {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return std::array<std::size_t, node_count>{[] {
                if constexpr (detail::is_sequence<detail::shape_at<G, I>>) return detail::shape_at<G, I>::width;
                else return std::size_t{0};
            }()...};
        }(std::make_index_sequence<node_count>{});
    }();
    static constexpr std::size_t input_width = widths_[0];
    // Columns of node i's buffers in this batch: sequence nodes hold the batch's length.
    std::size_t cols(std::size_t i) const {
        if constexpr (sequential) {
            if (widths_[i]) return mask_->length() * widths_[i];
        }
        return out_cols_[i];
    }
    void check_sequence_input(const matrix<T>& x) const {
        constexpr std::size_t max_length = detail::shape_at<G, 0>::max_length;
        if (x.dimension() != 2 || x.shape()[0] == 0 || x.shape()[1] == 0 ||
            x.shape()[1] % input_width != 0 || x.shape()[1] / input_width > max_length)
            throw error(fmt::format("nnprobe: input batch of {} x {}: node 0 takes 1 to {} "
                                    "positions of {} per sample, and at least one sample",
                                    x.shape()[0], x.shape()[1], max_length, input_width));
    }
    const matrix<T>& forward_sequences(const matrix<T>& x, const padding_mask& mask, mode m) {
        x_ = &x;
        mask_ = &mask;
        last_mode_ = m;
        context ctx{m, &pass_rng_, mask_};
        forward_nodes(ctx, std::make_index_sequence<node_count - 1>{});
        return out_[node_count - 1];
    }

    // The per-node steps below are templates on the node's layer, runtime part and input
    // count, never on its index: a member template per index would be a function per node,
    // each named after the whole graph, and g++'s time to mangle such names grows with the
    // square of their length (the cube of the depth over all nodes). The folds that walk the
    // nodes pass the index and inputs as arguments. The steps a model takes once (description,
    // initialisation, parameters) are out of line, so that a deep graph's folds are calls, not
    // every node's body inlined (200 nodes: 2.5% fewer compiler instructions); forward and
    // backward stay inline: out of line they cost a step of the Iris MLP 2-4%.
    template <std::size_t... I>
    void describe_nodes(std::index_sequence<I...>) {
        nodes_.clear();
        nodes_.reserve(node_count);
        (describe_node<detail::shape_at<G, I>>(detail::get<I>(graph_.nodes).layer, I,
                                               detail::node_at<G, I>::inputs),
         ...);
    }
    template <class Shape, class L, std::size_t NIn>
    [[gnu::noinline]] void describe_node(const L& layer, std::size_t i, std::array<std::size_t, NIn> inputs) {
        detail::add_node_info(nodes_, i, detail::describe_layer(layer), S::names[i], detail::shape_text<Shape>(),
                              S::lin[i], inputs.data(), NIn, detail::couples_batch<L>());
    }

    // The initialiser a node gets when it asks for `automatic`: from the first nonlinearity
    // it feeds (through elementwise-linear nodes), Glorot when there is none (output layers).
    static constexpr init_spec::kind_t automatic_init(std::size_t i) {
        constexpr std::array<init_spec::kind_t, node_count> pref = [] {
            return [&]<std::size_t... I>(std::index_sequence<I...>) {
                return std::array<init_spec::kind_t, node_count>{
                    detail::preferred_init<detail::layer_at<G, I>>()...};
            }(std::make_index_sequence<node_count>{});
        }();
        while (S::consumers[i] == 1) {
            std::size_t next = detail::npos;
            for (auto e : S::edges)
                if (e.from == i) next = e.to;
            if (S::lin[next] == linearity_class::nonlinear)
                return pref[next] == init_spec::automatic ? init_spec::glorot : pref[next];
            if (S::lin[next] == linearity_class::affine_mixing || S::input_count[next] != 1) break;
            i = next;
        }
        return init_spec::glorot;
    }

    template <std::size_t... I>
    void init_nodes(std::index_sequence<I...>) {
        (init_node(detail::get<I>(graph_.nodes).layer, detail::get<I>(impls_).impl, I), ...);
    }
    template <class L, class Impl>
    [[gnu::noinline]] void init_node(const L& spec, Impl& impl, std::size_t i) {
        if constexpr (!std::is_same_v<Impl, detail::no_impl> &&
                      requires(rng r) { impl.init(spec, init_spec{}, r); }) {
            init_spec s{};
            if constexpr (requires { spec.init_; }) s = spec.init_;
            if (s.kind == init_spec::automatic) s.kind = automatic_init(i);
            rng r = rng(seed_).fork(i);
            impl.init(spec, s, r);
        }
    }

    void collect_params() {
        params_.clear();
        collect_params(std::make_index_sequence<node_count>{});
    }
    template <std::size_t... I>
    void collect_params(std::index_sequence<I...>) {
        (collect_node_params(detail::get<I>(graph_.nodes).layer, detail::get<I>(impls_).impl, I), ...);
    }
    template <class L, class Impl>
    [[gnu::noinline]] void collect_node_params(const L& spec, Impl& impl, std::size_t i) {
        if constexpr (requires { impl.for_each_param([](auto&&...) {}); }) {
            bool trainable = true;
            double lr_scale = 1.0;
            if constexpr (requires { spec.trainable_; }) {
                trainable = spec.trainable_;
                lr_scale = spec.lr_scale_;
            }
            impl.for_each_param([&](std::string_view name, auto& value, auto& grad) {
                params_.push_back(param_ref<T>{i, std::string(name), value.data(), grad.data(),
                                               value.size(), trainable, lr_scale});
            });
            nodes_[i].has_params = true;
        }
    }

    template <std::size_t... K>
    void forward_nodes(context& ctx, std::index_sequence<K...>) {
        (forward_node<detail::is_merge<detail::layer_at<G, K + 1>>()>(
             detail::get<K + 1>(impls_).impl, K + 1, detail::node_at<G, K + 1>::inputs, ctx),
         ...);
    }
    template <std::size_t... K>
    void forward_nodes_after(std::size_t first, context& ctx, std::index_sequence<K...>) {
        ((K + 1 > first ? forward_node<detail::is_merge<detail::layer_at<G, K + 1>>()>(
                              detail::get<K + 1>(impls_).impl, K + 1, detail::node_at<G, K + 1>::inputs, ctx)
                        : void()),
         ...);
    }
    template <bool Merge, class Impl, std::size_t NIn>
    void forward_node(Impl& impl, std::size_t i, std::array<std::size_t, NIn> inputs, context& ctx) {
        auto& y = out_[i];
        detail::ensure_shape(y, rows(), cols(i));
        if constexpr (Merge) {
            std::array<const matrix<T>*, NIn> xs;
            for (std::size_t k = 0; k < NIn; ++k) xs[k] = &output(inputs[k]);
            impl.forward(std::span<const matrix<T>* const>(xs), y, ctx);
        } else {
            impl.forward(output(inputs[0]), y, ctx);
        }
    }

    // Where node I's backward writes the gradient for its input j: straight into j's
    // gradient when I is j's only consumer, else into a scratch buffer that is then added.
    matrix<T>* gradient_target(std::size_t j) {
        if (j == 0 && !input_gradient_) return nullptr;
        auto& t = S::consumers[j] == 1 ? grad_[j] : scratch_[j];
        detail::ensure_shape(t, rows(), cols(j));
        return &t;
    }
    void accumulate(std::size_t j) {
        if ((j > 0 || input_gradient_) && S::consumers[j] > 1) detail::add_into(grad_[j], scratch_[j]);
    }

    template <std::size_t... K>
    void backward_nodes(context& ctx, std::index_sequence<K...>) {
        (backward_node<detail::is_merge<detail::layer_at<G, node_count - 1 - K>>()>(
             detail::get<node_count - 1 - K>(impls_).impl, node_count - 1 - K,
             detail::node_at<G, node_count - 1 - K>::inputs, ctx),
         ...);
    }
    template <bool Merge, class Impl, std::size_t NIn>
    void backward_node(Impl& impl, std::size_t i, std::array<std::size_t, NIn> inputs, context& ctx) {
        if constexpr (Merge) {
            // Merges always get real buffers: concat needs each input's width.
            std::array<matrix<T>*, NIn> dxs;
            for (std::size_t k = 0; k < NIn; ++k) {
                const std::size_t j = inputs[k];
                auto& t = (S::consumers[j] == 1 && (j > 0 || input_gradient_)) ? grad_[j] : scratch_[j];
                detail::ensure_shape(t, rows(), cols(j));
                dxs[k] = &t;
            }
            impl.backward(grad_[i], std::span<matrix<T>* const>(dxs), ctx);
            for (std::size_t k = 0; k < NIn; ++k) accumulate(inputs[k]);
        } else {
            const std::size_t j = inputs[0];
            impl.backward(output(j), out_[i], grad_[i], gradient_target(j), ctx);
            accumulate(j);
        }
    }

    G graph_;
    typename detail::impl_tuple<T, G>::type impls_{};  // value-initialised, as std::tuple did
    // Vectors, not arrays: a constructor and destructor that loop, not one copy of xtensor's
    // per node (deep graphs).
    std::vector<matrix<T>> out_ = std::vector<matrix<T>>(node_count), grad_ = std::vector<matrix<T>>(node_count),
                           scratch_ = std::vector<matrix<T>>(node_count);
    std::vector<param_ref<T>> params_;
    std::vector<node_info> nodes_;
    seed seed_{};
    rng pass_rng_{0};
    mode last_mode_ = mode::train;
    bool input_gradient_ = false;
    const matrix<T>* x_ = nullptr;
    const padding_mask* mask_ = nullptr;  // sequence models: the last forward pass's
    padding_mask full_mask_;
};

// The result of make_model on a graph that failed a static check: it absorbs what a program
// does with a model next, so that only the check's own message is printed.
struct invalid_model {
    using scalar = float;
    template <class... A>
    const matrix<float>& forward(const A&...) { return none_; }
    void backward() {}
    matrix<float>& output_grad() { return none_; }
    void reset(seed) {}
    void enable_input_gradient(bool = true) {}
    const matrix<float>& output(std::size_t = 0) const { return none_; }
    const matrix<float>& gradient(std::size_t) const { return none_; }
    const std::vector<param_ref<float>>& params() const { return params_; }
    const std::vector<node_info>& nodes() const { return nodes_; }
    const node_info& node(std::size_t) const { return info_; }
    std::size_t index_of(std::string_view) const { return 0; }
    template <std::size_t I>
    invalid_model& layer() { return *this; }

private:
    matrix<float> none_;
    std::vector<param_ref<float>> params_;
    std::vector<node_info> nodes_;
    node_info info_{};
};

// The messages of the checks that need the whole graph, fired both by make_model and by
// pipeline(). Each static_assert stands in the entry point itself: g++ prints one more line
// before the message for every nested call, and a note for a macro around the assertion.
#define NNP_DETAIL_TRAILING_FROM_TEXT                                                           \
    "nnprobe: the graph ends with from<...>: the output is the last node appended, so the "      \
    "trailing from<...> selects nothing. Remove it, or append the layers it should start"
#define NNP_DETAIL_C4_TEXT                                                                       \
    "nnprobe: C4: a node does not reach the output: it is declared, then bypassed. Join it "     \
    "back (add<...>/concat<...>) or remove it"
#define NNP_DETAIL_C3_TEXT                                                                       \
    "nnprobe: C3: the whole network is affine in its input: no nonlinear node on any path. "    \
    "Insert relu/tanh_act/..., or mark it nnp::linear_ok"
#define NNP_DETAIL_C5_SOFTMAX_TEXT                                                               \
    "nnprobe: C5: the network ends in softmax but the loss expects logits: softmax would be "   \
    "applied twice (nodes after it that are elementwise-linear change nothing). Remove the "     \
    "softmax"
#define NNP_DETAIL_NO_IMPL_TEXT                                                                  \
    "nnprobe: C7: this user-defined layer has no runtime part: add `template <class T, class "   \
    "In> struct impl` with forward(x, y, ctx) and backward(x, y, dy, dx, ctx)"
#define NNP_DETAIL_NO_FORWARD_TEXT                                                               \
    "nnprobe: C7: this user-defined layer's impl has no forward: add `void forward(const "       \
    "nnp::matrix<T>& x, nnp::matrix<T>& y, nnp::context& ctx)`"
#define NNP_DETAIL_NO_BACKWARD_TEXT                                                              \
    "nnprobe: C7: this user-defined layer's impl has no backward: add `void backward(const "     \
    "nnp::matrix<T>& x, const nnp::matrix<T>& y, const nnp::matrix<T>& dy, nnp::matrix<T>* dx, " \
    "nnp::context& ctx)`"

namespace detail {
template <class Node>
struct graph_ends_with_from {
    static constexpr bool value = false;
};
template <class Node>
struct layer_without_runtime_part {
    static constexpr bool value = false;
};
template <class Node>
struct runtime_part_without_forward {
    static constexpr bool value = false;
};
template <class Node>
struct runtime_part_without_backward {
    static constexpr bool value = false;
};
template <class X>
struct not_a_graph {
    static constexpr bool value = false;
};
template <class Head, class Loss>
struct softmax_output_fed_to_a_loss_that_expects_logits {
    static constexpr bool value = false;
};
template <class Loss>
constexpr bool expects_logits() {
    if constexpr (requires { Loss::expects_logits; }) return Loss::expects_logits;
    else return false;
}

// C7 for the runtime part: does each node's impl<T, In> exist, with forward and backward?
// (Merges have their own signatures and are the library's.)
enum class impl_fault { none, no_impl, no_forward, no_backward };
// A template on the layer and its input, not on the graph and the index: one per kind of
// node rather than one per node, each named after the whole graph.
template <class T, class L, class In>
constexpr impl_fault impl_fault_of() {
    if constexpr (is_merge<L>()) {
        return impl_fault::none;
    } else {
        if constexpr (!requires { typename L::template impl<T, In>; }) {
            return impl_fault::no_impl;
        } else {
            using Impl = typename L::template impl<T, In>;
            if constexpr (!requires(Impl& i, const matrix<T>& x, matrix<T>& y, context& c) {
                              i.forward(x, y, c);
                          })
                return impl_fault::no_forward;
            else if constexpr (!requires(Impl& i, const matrix<T>& x, matrix<T>* dx, context& c) {
                                   i.backward(x, x, x, dx, c);
                               })
                return impl_fault::no_backward;
            else
                return impl_fault::none;
        }
    }
}
template <class T, class G, class Seq = std::make_index_sequence<G::size>>
struct runtime_parts;
template <class T, class G, std::size_t... I>
struct runtime_parts<T, G, std::index_sequence<I...>> {
    static constexpr std::array<impl_fault, G::size> faults{
        (I == 0 ? impl_fault::none
                : impl_fault_of<T, layer_at<G, I>,
                                shape_at<G, I == 0 ? 0 : node_at<G, I>::inputs[0]>>())...};
    static constexpr std::size_t first = [] {
        for (std::size_t i = 0; i < G::size; ++i)
            if (faults[i] != impl_fault::none) return i;
        return npos;
    }();
    static constexpr impl_fault fault = first == npos ? impl_fault::none : faults[first];
    using node = node_ref<first == npos ? 0 : first, layer_at<G, first == npos ? 0 : first>>;
};
}  // namespace detail

// The user-facing entry point, and where the whole-graph checks fire.
template <class T = float, class Net>
auto make_model(const Net& net, seed s = {}) {
    using G = detail::flat_graph_t<Net>;  // the checks read the graph a model holds
    if constexpr (std::is_same_v<G, invalid_graph>) {
        return invalid_model{};  // a check already failed where the graph was written
    } else if constexpr (!detail::is_graph<G>) {
        static_assert(detail::not_a_graph<G>::value,
                      "nnprobe: make_model takes a graph: input<...> | layer | ...");
        return invalid_model{};
    } else if constexpr (G::cursor != G::size - 1) {
        static_assert(detail::graph_ends_with_from<
                          detail::node_ref<G::cursor, detail::layer_at<G, G::cursor>>>::value,
                      NNP_DETAIL_TRAILING_FROM_TEXT);
        return invalid_model{};
    } else if constexpr (detail::structure<G>::first_unreachable != detail::npos) {
        constexpr std::size_t i = detail::structure<G>::first_unreachable;
        static_assert(detail::node_does_not_reach_output<
                          detail::node_ref<i, detail::layer_at<G, i>>>::value,
                      NNP_DETAIL_C4_TEXT);
        return invalid_model{};
    } else if constexpr (!detail::structure<G>::has_nonlinearity) {
        static_assert(detail::network_is_affine_in_its_input<
                          detail::node_ref<0, detail::shape_at<G, 0>>,
                          detail::node_ref<G::size - 1, detail::layer_at<G, G::size - 1>>>::value,
                      NNP_DETAIL_C3_TEXT);
        return invalid_model{};
    } else if constexpr (detail::runtime_parts<T, G>::fault == detail::impl_fault::no_impl) {
        static_assert(detail::layer_without_runtime_part<typename detail::runtime_parts<T, G>::node>::value,
                      NNP_DETAIL_NO_IMPL_TEXT);
        return invalid_model{};
    } else if constexpr (detail::runtime_parts<T, G>::fault == detail::impl_fault::no_forward) {
        static_assert(detail::runtime_part_without_forward<typename detail::runtime_parts<T, G>::node>::value,
                      NNP_DETAIL_NO_FORWARD_TEXT);
        return invalid_model{};
    } else if constexpr (detail::runtime_parts<T, G>::fault == detail::impl_fault::no_backward) {
        static_assert(detail::runtime_part_without_backward<typename detail::runtime_parts<T, G>::node>::value,
                      NNP_DETAIL_NO_BACKWARD_TEXT);
        return invalid_model{};
    } else {
        return model<T, G>(detail::flatten(net), s);
    }
}

}  // namespace nnp

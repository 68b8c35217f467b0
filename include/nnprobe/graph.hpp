#pragma once
// Networks as typed compile-time graphs.
//
//   constexpr auto net = input<64> | dense<64> | relu | named<"trunk">
//                      | dense<64> | relu | dense<64> | add<"trunk"> | relu | dense<10>;
//
// Node 0 is the input; each `| layer` appends a node fed by the current node. `named<"x">`
// names the current node, `from<"x">` makes node x current (a branch), `add<"x">` and
// `concat<"x">` join the current node with node x. Sizes are written once: every node's
// output shape is inferred. The checks that need only the new node (C1, C2, C7) fire here,
// at the `|` the user wrote; those that need the whole graph (C3, C4) fire where the graph
// is turned into a model (model.hpp).
#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

#include "fixed_string.hpp"
#include "flat_tuple.hpp"
#include "layer.hpp"
#include "layers/merge.hpp"
#include "layers/shape_only.hpp"
#include "sequence.hpp"
#include "shape.hpp"
#include "tensor.hpp"
#include "window.hpp"

namespace nnp {

template <class Shape>
struct input_t {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    template <class In>
    using output_shape = Shape;
    static std::string describe() { return "input"; }
};

// A node: its layer value, output shape, name and the indices of its inputs.
template <class Layer, class Shape, fixed_string Name, std::size_t... Inputs>
struct node {
    using layer_type = Layer;
    using shape_type = Shape;
    static constexpr auto name = Name;
    static constexpr std::size_t input_count = sizeof...(Inputs);
    static constexpr std::array<std::size_t, sizeof...(Inputs)> inputs{Inputs...};
    Layer layer;
};

// The graph: its nodes in topological order and the current node (where `|` attaches).
// What a model holds: node I is read in O(1) by the index in its type.
template <std::size_t Cursor, class... Nodes>
struct graph {
    static constexpr std::size_t size = sizeof...(Nodes);
    static constexpr std::size_t cursor = Cursor;
    detail::flat_tuple<Nodes...> nodes;
};

// A graph being written: what `input<...> | layer | ...` builds. Its nodes are a chain (each
// `|` adds one link that names the graph so far and the new node), so writing N nodes costs
// the compiler O(N) types; make_model and pipeline copy it into a graph once. It reads as a
// graph: size, cursor, and node I through detail::node_at.
template <std::size_t Cursor, class Nodes>
struct graph_expr {
    enum : std::size_t { size = Nodes::size, cursor = Cursor };
    Nodes nodes;
};

namespace detail {
// A graph of one node, Shape's input: where every graph expression starts.
template <class Shape>
inline constexpr graph_expr<0, chain<chain_end, node<input_t<Shape>, Shape, "">>> input_of{};
}  // namespace detail

template <std::size_t... Dims>
inline constexpr auto input = detail::input_of<shape<Dims...>>;

// A sequence model's input: up to MaxLen token ids per sample, padded to the batch's longest
// sample (sequence.hpp); an embedding turns them into vectors.
template <std::size_t MaxLen>
inline constexpr auto token_input = detail::input_of<sequence<MaxLen, 1>>;

// Graph operators.
template <fixed_string Name>
struct named_t {};
template <fixed_string Name>
struct from_t {};
template <fixed_string Name>
struct add_with_t {};
template <fixed_string Name>
struct concat_with_t {};

template <fixed_string Name>
inline constexpr named_t<Name> named{};
template <fixed_string Name>
inline constexpr from_t<Name> from{};
template <fixed_string Name>
inline constexpr add_with_t<Name> add{};
template <fixed_string Name>
inline constexpr concat_with_t<Name> concat{};


// The result of a graph expression that already failed a static check: it absorbs further
// `|` so that only the first, readable error is printed.
struct invalid_graph {
    static constexpr std::size_t size = 0;
};

namespace detail {

// A concept over a class trait, not a variable template: a variable would be a symbol for
// every intermediate graph of a network, each named after that graph.
template <class G>
struct is_graph_type : std::false_type {};
template <std::size_t C, class... N>
struct is_graph_type<graph<C, N...>> : std::true_type {};
template <std::size_t C, class Nodes>
struct is_graph_type<graph_expr<C, Nodes>> : std::true_type {};
template <class G>
concept is_graph = is_graph_type<G>::value;

// A graph expression as the graph a model holds (specialised below); a flat graph stays as
// it is, and so does what is not a graph, for make_model's and pipeline's checks to name.
template <class G>
struct flat_graph {
    using type = G;
};
template <class G>
using flat_graph_t = typename flat_graph<std::remove_cv_t<G>>::type;

template <class G, std::size_t I>
using node_at = element_t<I, decltype(flat_graph_t<G>::nodes)>;
template <class G, std::size_t I>
using layer_at = typename node_at<G, I>::layer_type;
template <class G, std::size_t I>
using shape_at = typename node_at<G, I>::shape_type;

inline constexpr std::size_t npos = static_cast<std::size_t>(-1);

template <class L>
constexpr bool acknowledges_linear() {
    if constexpr (requires { L::acknowledges_linear; }) return L::acknowledges_linear;
    else return false;
}
template <class L>
constexpr bool is_merge() {
    if constexpr (requires { L::is_merge; }) return L::is_merge;
    else return false;
}
// softmax or log_softmax: what a loss on logits must not be given.
template <class L>
constexpr bool outputs_probabilities() {
    if constexpr (requires { L::outputs_probabilities; })
        return L::outputs_probabilities || L::outputs_log_probabilities;
    else return false;
}
// C8: a layer that reduces or attends over positions and does not read the padding mask,
// on a sequence whose samples may be padded.
template <class L, class In>
constexpr bool ignores_padding() {
    if constexpr (requires { L::reduces_positions; In::padded; }) {
        if constexpr (requires { L::uses_mask; }) return L::reduces_positions && In::padded && !L::uses_mask;
        else return L::reduces_positions && In::padded;
    } else {
        return false;
    }
}
// Layers that read the padding mask (attention, masked pooling): the mask's length axis is
// the positions of the graph's input sequence.
template <class L>
constexpr bool uses_mask() {
    if constexpr (requires { L::uses_mask; }) return L::uses_mask;
    else return false;
}
// Layers whose training statistics run over the batch (batch_norm).
template <class L>
constexpr bool batch_statistics() {
    if constexpr (requires { L::couples_batch; }) return L::couples_batch;
    else return false;
}
// C1: a sequence node must keep the input's length axis, the one the batch's padding mask
// describes (and by which the model sizes its buffers): a graph whose input is
// sequence<MaxLen, ...> may change a sequence's width, not its positions.
template <class Out, class Input>
constexpr bool foreign_length_axis() {
    if constexpr (!is_sequence<Out>) return false;
    else if constexpr (!is_sequence<Input>) return true;
    else return Out::max_length != Input::max_length;
}
template <class L>
constexpr bool is_output_head() {
    if constexpr (requires { L::is_output_head; }) return L::is_output_head;
    else return false;
}

// What the checks need of one node, as a value.
struct node_facts {
    linearity_class lin;
    bool ack;
    std::size_t input_count;
    std::size_t first_input;
};
// A variable per node type, shared by every graph that holds the node: a variable costs no
// call to resolve.
template <class N>
inline constexpr node_facts facts_of{N::layer_type::linearity,
                                     acknowledges_linear<typename N::layer_type>(), N::input_count,
                                     N::input_count ? N::inputs[0] : npos};

// Flat, constexpr views of a graph's structure: what the checks loop over (plain loops
// over arrays compile far faster than type-level recursion). Only for whole graphs: `|`
// reads the nodes it needs through the chain's types (each static member here is a symbol
// named after the graph, and would cost each `|` all the nodes so far).
template <class G>
struct structure;
template <std::size_t C, class... N>
struct structure<graph<C, N...>> {
    static constexpr std::size_t size = sizeof...(N);
    static constexpr std::array<linearity_class, size> lin{N::layer_type::linearity...};
    static constexpr std::array<bool, size> ack{acknowledges_linear<typename N::layer_type>()...};
    static constexpr std::array<bool, size> head{is_output_head<typename N::layer_type>()...};
    static constexpr std::array<bool, size> probabilities{
        outputs_probabilities<typename N::layer_type>()...};
    static constexpr std::array<std::size_t, size> input_count{N::input_count...};
    static constexpr std::array<std::size_t, size> first_input{
        (N::input_count ? N::inputs[0] : npos)...};
    static constexpr std::size_t edge_count = (N::input_count + ...);
    struct edge {
        std::size_t from, to;
    };
    static constexpr std::array<edge, edge_count> edges = [] {
        std::array<edge, edge_count> e{};
        std::size_t k = 0, to = 0;
        (([&] {
             for (std::size_t from : N::inputs) e[k++] = {from, to};
             ++to;
         }()),
         ...);
        return e;
    }();
    static constexpr std::array<std::string_view, size> names{N::name.view()...};

    // Which nodes reach the output (the last node). Inputs always precede their node, so
    // one backward sweep suffices.
    static constexpr std::array<bool, size> reaches_output = [] {
        std::array<bool, size> r{};
        r[size - 1] = true;
        for (std::size_t k = edge_count; k-- > 0;)
            if (r[edges[k].to]) r[edges[k].from] = true;
        return r;
    }();
    static constexpr std::array<std::size_t, size> consumers = [] {
        std::array<std::size_t, size> c{};
        for (auto e : edges) ++c[e.from];
        return c;
    }();

    // C5: the softmax/log_softmax node whose output reaches the output unchanged but for
    // elementwise-linear or shape-only nodes (dropout, flatten, a user's scale), or npos.
    static constexpr std::size_t probability_head = [] {
        for (std::size_t i = size - 1; i != npos && input_count[i] <= 1; i = first_input[i]) {
            if (probabilities[i]) return i;
            if (lin[i] != linearity_class::affine_elementwise || input_count[i] == 0) break;
        }
        return npos;
    }();

    // C4: the first node that does not reach the output.
    static constexpr std::size_t first_unreachable = [] {
        for (std::size_t i = 0; i < size; ++i)
            if (!reaches_output[i]) return i;
        return npos;
    }();

    // C3: does any nonlinear node (other than a final output head) feed the output, or has
    // the user opted out?
    static constexpr bool has_nonlinearity = [] {
        for (std::size_t i = 0; i < size; ++i) {
            if (ack[i]) return true;
            const bool final_head = head[i] && i == size - 1;
            if (lin[i] == linearity_class::nonlinear && reaches_output[i] && !final_head)
                return true;
        }
        return false;
    }();
};

// Readable stand-ins for the diagnostics: g++ prints these in the note after the
// `nnprobe:` message ("'...::value' evaluates to false"), clang in the message itself, with
// the node indices, layers and shapes filled in. Each declares its own `value`: one inherited
// from std::false_type would be printed by g++ as `std::integral_constant<bool, false>::value`.
template <std::size_t Index, class LayerOrShape>
struct node_ref {};
template <class From, class To>
struct no_nonlinearity_between {
    static constexpr bool value = false;
};
template <class Producer, class Consumer>
struct shape_mismatch {
    static constexpr bool value = false;
};
// Numbers for the window checks: the input, the padded input and the window's span.
template <std::size_t C, std::size_t H, std::size_t W>
struct input_chw {};
template <std::size_t H, std::size_t W>
struct padded_hw {};
template <std::size_t Kernel, std::size_t Dilation, std::size_t Span>
struct kernel_dilation_span {};
template <class Node, class Input, class Padded, class Kernel>
struct kernel_larger_than_padded_input {
    static constexpr bool value = false;
};
template <class Node, class Input, class Padded, class Kernel>
struct output_size_zero {
    static constexpr bool value = false;
};
template <class Node, class Stride>
struct same_padding_with_stride {
    static constexpr bool value = false;
};
template <class Producer, class Consumer>
struct layer_takes_c_h_w_images {
    static constexpr bool value = false;
};
template <class A, class B>
struct channel_mismatch {
    static constexpr bool value = false;
};
template <class Node>
struct layer_without_linearity_class {
    static constexpr bool value = false;
};
template <class Node>
struct layer_with_non_static_linearity {
    static constexpr bool value = false;
};
template <class Producer, class Consumer>
struct batch_statistics_over_a_sequence {
    static constexpr bool value = false;
};
template <class Producer, class Consumer>
struct padding_mask_on_a_node_without_positions {
    static constexpr bool value = false;
};
template <class Input, class Node, class Output>
struct length_axis_not_the_inputs {
    static constexpr bool value = false;
};
template <class Producer, class Consumer>
struct reduces_padded_positions_without_mask {
    static constexpr bool value = false;
};
template <class Node, class InputShape>
struct layer_without_shape_rule {
    static constexpr bool value = false;
};
// A node name spelled as characters: clang prints a fixed_string argument as character
// codes ({{116, 114, ...}}), but node_name<'t', 'r', ...> readably.
template <char... C>
struct node_name {};
template <fixed_string Name, class = std::make_index_sequence<Name.view().size()>>
struct spelled;
template <fixed_string Name, std::size_t... I>
struct spelled<Name, std::index_sequence<I...>> {
    using type = node_name<Name.chars[I]...>;
};
template <class Name>
struct no_node_named {
    static constexpr bool value = false;
};
template <class Name>
struct name_already_used {
    static constexpr bool value = false;
};

// Graph edits work on the node chain, and read what they need of the graph so far through
// its type: the last node and node 0 by name, others by walking back from the last link (a
// few links for add<...>).
template <class Nodes, std::size_t I, bool Last = (I + 1 == Nodes::size)>
struct chain_node;
template <class Nodes, std::size_t I>
struct chain_node<Nodes, I, true> {
    using type = typename Nodes::last_type;
};
template <class Nodes, std::size_t I>
struct chain_node<Nodes, I, false> {
    using type = typename chain_node<typename Nodes::prev_type, I>::type;
};
template <class Nodes, std::size_t I>
using chain_shape = typename chain_node<Nodes, I>::type::shape_type;

// What `|` reads of the chain is worked out by class templates whose results are enumerators:
// g++ gives every function it instantiates and every static data member it reads a mangled
// name (for the symbol table), even when only constant evaluation uses them, and one that
// names the chain spells all its nodes. Naming a few such symbols per `|`, each as long as
// the graph so far, cost g++ O(N^3): at 200 nodes, half of the graph declaration's compile
// time. A class, and an enumerator, that no emitted symbol names is never named.
struct no_node {
    enum : std::size_t { value = npos };
};
// The index of the node named Name, or npos. Four links a step: the template nesting stays a
// quarter of the graph's depth. Each (name, link) pair is worked out once: add<"x"> reuses
// what named<"x"> found.
template <fixed_string Name, class Nodes, std::size_t Size = Nodes::size>
struct index_named {
    using D = typename Nodes::last_type;
    using C = typename Nodes::prev_type::last_type;
    using B = typename Nodes::prev_type::prev_type::last_type;
    using A = typename Nodes::prev_type::prev_type::prev_type::last_type;
    enum : std::size_t {
        value = D::name.view() == Name.view() ? Size - 1
        : C::name.view() == Name.view() ? Size - 2
        : B::name.view() == Name.view() ? Size - 3
        : A::name.view() == Name.view()
            ? Size - 4
            : index_named<Name, typename Nodes::prev_type::prev_type::prev_type::prev_type>::value
    };
};
template <fixed_string Name, class Nodes>
struct index_named<Name, Nodes, 0> : no_node {};
// Below four links, one link a step.
template <fixed_string Name, class Nodes, std::size_t Size>
struct index_named_last {
    enum : std::size_t {
        value = Nodes::last_type::name.view() == Name.view() ? Size - 1
                                                             : index_named<Name, typename Nodes::prev_type>::value
    };
};
template <fixed_string Name, class Nodes>
struct index_named<Name, Nodes, 1> : index_named_last<Name, Nodes, 1> {};
template <fixed_string Name, class Nodes>
struct index_named<Name, Nodes, 2> : index_named_last<Name, Nodes, 2> {};
template <fixed_string Name, class Nodes>
struct index_named<Name, Nodes, 3> : index_named_last<Name, Nodes, 3> {};
template <fixed_string Name, class Nodes>
struct node_named : std::conditional_t<Name.empty(), no_node, index_named<Name, Nodes>> {};

// C2: walking back from node I through single-input elementwise-linear nodes, the
// affine-mixing node reached (or npos when a nonlinearity, merge, input or opt-out
// intervenes). It visits the chain's nodes it passes, not the graph (usually one node: the
// cursor is a nonlinearity). Step: 0 stop (npos), 1 found (I), 2 go on to the node's input.
template <class Nodes, std::size_t I, int Step, std::size_t Next>
struct mixing_step : no_node {};
template <class Nodes, std::size_t I, std::size_t Next>
struct mixing_step<Nodes, I, 1, Next> {
    enum : std::size_t { value = I };
};
template <class Nodes, std::size_t I, std::size_t Next>
struct mixing_step<Nodes, I, 2, Next>;
template <class Nodes, std::size_t I, const node_facts& F = facts_of<typename chain_node<Nodes, I>::type>>
struct mixing_behind
    : mixing_step<Nodes, I,
                  F.ack                                                       ? 0
                  : F.lin == linearity_class::affine_mixing                   ? 1
                  : F.lin == linearity_class::nonlinear || F.input_count != 1 ? 0
                                                                              : 2,
                  F.first_input> {};
template <class Nodes, std::size_t I, std::size_t Next>
struct mixing_step<Nodes, I, 2, Next> : mixing_behind<Nodes, Next> {};

// The functions that build a graph expression's value spell their return types: a function
// template whose return type is deduced is instantiated where it is named, one whose type is
// spelled only when it is evaluated. That keeps `a | b | c | ...` linear under -Wall: for
// -Wnonnull and -Wformat g++ constant-folds every argument of every call, so each `|` would
// evaluate the whole expression before it again (cubic: 36 s and 2.2 GB of compiler at 200
// nodes). That folding never instantiates, so it stops at the first `|` it would have to run;
// `constexpr auto net = ...` is still evaluated, once, where it is initialised.
template <class L, class Shape, std::size_t... In, class Nodes>
constexpr graph_expr<Nodes::size, chain<Nodes, node<L, Shape, "", In...>>> append(const Nodes& nodes,
                                                                                 const L& l) {
    return {{nodes, node<L, Shape, "", In...>{l}}};
}
template <class G>
constexpr G built(const G& g) {
    return g;
}

template <class N, fixed_string Name>
struct renamed;
template <class L, class S, fixed_string Old, std::size_t... In, fixed_string Name>
struct renamed<node<L, S, Old, In...>, Name> {
    using type = node<L, S, Name, In...>;
};
// The chain's values into a graph: eight links a call, each passing on the nodes it took.
// Every call is a function named after the rest of the chain and the nodes taken (as long as
// the graph), and g++'s cost to name it grows with the square of its length: eight links a
// call rather than four took 2.7% off compiling the 200-node network of
// bench/compile_scaling.py. (The calls nest an eighth of the graph's depth, far under g++'s
// constexpr limit.)
template <std::size_t C, class Nodes, class... After>
constexpr auto flatten_from(const Nodes& c, const After&... after) {
    if constexpr (Nodes::size == 0) {
        return graph<C, After...>{{{after}...}};
    } else if constexpr (Nodes::size < 8) {
        return flatten_from<C>(c.prev, c.last, after...);
    } else {
        const auto& d = c.prev.prev.prev.prev;
        return flatten_from<C>(d.prev.prev.prev.prev, d.prev.prev.prev.last, d.prev.prev.last, d.prev.last, d.last,
                               c.prev.prev.prev.last, c.prev.prev.last, c.prev.last, c.last, after...);
    }
}
// A graph expression as the graph a model holds.
template <std::size_t C, class Nodes>
struct flat_graph<graph_expr<C, Nodes>> {
    using type = decltype(flatten_from<C>(std::declval<const Nodes&>()));
};
// A graph expression's structure is its graph's.
template <std::size_t C, class Nodes>
struct structure<graph_expr<C, Nodes>> : structure<flat_graph_t<graph_expr<C, Nodes>>> {};

template <std::size_t C, class Nodes>
constexpr auto flatten(const graph_expr<C, Nodes>& g) {
    return flatten_from<C>(g.nodes);
}
template <class G>
constexpr const G& flatten(const G& g) {
    return g;
}

// One more link, for rebuilding a chain in a fold: chain_end{} + link<N>{..} + ...
template <class N>
struct link {
    N node;
};
template <class Nodes, class N>
constexpr chain<Nodes, N> operator+(const Nodes& c, const link<N>& l) {
    return {c, l.node};
}
// Node `Target` (the cursor) under a new name; the others as they were. The cursor is the
// last node unless `from<...>` moved it: then the chain is rebuilt (once, for that `|`).
template <fixed_string Name, std::size_t Target, class... N, std::size_t... I>
constexpr auto rename_inside(const graph<Target, N...>& g, std::index_sequence<I...>) {
    auto links = (chain_end{} + ... +
                  link<std::conditional_t<I == Target, typename renamed<N, Name>::type, N>>{
                      {tuple_slot<I, N>::of(g.nodes).layer}});
    return graph_expr<Target, decltype(links)>{links};
}
template <fixed_string Name, std::size_t Target, class Nodes>
constexpr auto rename(const graph_expr<Target, Nodes>& g) {
    using last = typename Nodes::last_type;
    if constexpr (Target + 1 == Nodes::size) {
        using named_last = typename renamed<last, Name>::type;
        return graph_expr<Target, chain<typename Nodes::prev_type, named_last>>{
            {g.nodes.prev, named_last{g.nodes.last.layer}}};
    } else {
        return rename_inside<Name>(flatten(g), std::make_index_sequence<Nodes::size>{});
    }
}

template <std::size_t NewCursor, std::size_t C, class Nodes>
constexpr graph_expr<NewCursor, Nodes> move_cursor(const graph_expr<C, Nodes>& g) {
    return {g.nodes};
}

template <class A, class B>
struct concat_shape;
template <std::size_t A, std::size_t B>
struct concat_shape<shape<A>, shape<B>> {
    using type = shape<A + B>;
};

// Images join along the channel axis; their heights and widths must agree.
template <std::size_t C1, std::size_t C2, std::size_t H, std::size_t W>
struct concat_shape<shape<C1, H, W>, shape<C2, H, W>> {
    using type = shape<C1 + C2, H, W>;
};

// Two images of the same height and width whose channel counts differ.
template <class A, class B>
inline constexpr bool only_channels_differ = false;
template <std::size_t C1, std::size_t C2, std::size_t H, std::size_t W>
inline constexpr bool only_channels_differ<shape<C1, H, W>, shape<C2, H, W>> = C1 != C2;

template <class L>
constexpr bool takes_images() {
    if constexpr (requires { L::takes_images; }) return L::takes_images;
    else return false;
}
// How the window of a windowed layer (conv2d, pooling) fits its input; `fits` for others.
template <class L, class In>
constexpr window_fit window_fit_of() {
    if constexpr (requires { L::template window<In>::fit; }) return L::template window<In>::fit;
    else return window_fit::fits;
}

template <class A, class B>
concept concatenable = requires { typename concat_shape<A, B>::type; };

}  // namespace detail

// `graph | layer`: append a node fed by the current node, after the local static checks.
// The operators take the graph's parts (cursor C, node chain Nodes) rather than the graph
// type: what they read of the graph is computed here, with no helper instantiated per graph.
template <std::size_t C, class Nodes, class L>
constexpr auto operator|(const graph_expr<C, Nodes>& g, const L& l) {
    using G = graph_expr<C, Nodes>;
    using in = detail::chain_shape<Nodes, C>;
    constexpr std::size_t next = Nodes::size;  // the index of the node `|` appends
    if constexpr (detail::has_non_static_linearity<L>) {
        static_assert(detail::layer_with_non_static_linearity<detail::node_ref<next, L>>::value,
                      "nnprobe: C7: this user-defined layer's linearity is not static: the checks "
                      "read it from the type. Write `static constexpr nnp::linearity_class "
                      "linearity = ...;`");
        return invalid_graph{};
    } else if constexpr (!detail::states_linearity<L>) {
        static_assert(detail::layer_without_linearity_class<detail::node_ref<next, L>>::value,
                      "nnprobe: C7: this user-defined layer does not state its linearity class: "
                      "add `static constexpr nnp::linearity_class linearity = "
                      "nnp::linearity_class::nonlinear;` (or affine_mixing / affine_elementwise)");
        return invalid_graph{};
    } else if constexpr (!detail::states_shape_rule<L, in>) {
        static_assert(detail::layer_without_shape_rule<detail::node_ref<next, L>, in>::value,
                      "nnprobe: C7: this user-defined layer has no shape rule: add "
                      "`template <class In> using output_shape = ...;`");
        return invalid_graph{};
    } else if constexpr (detail::takes_images<L>() && in::rank != 3) {
        static_assert(detail::layer_takes_c_h_w_images<detail::node_ref<C, in>,
                                                       detail::node_ref<next, L>>::value,
                      "nnprobe: C1: shape mismatch: this layer takes C x H x W images, its input "
                      "is not rank 3 (declare the input as input<C, H, W>)");
        return invalid_graph{};
    } else if constexpr (detail::window_fit_of<L, in>() == detail::window_fit::same_needs_stride_1) {
        static_assert(detail::same_padding_with_stride<detail::node_ref<next, L>,
                                                       stride<L::template window<in>::stride>>::value,
                      "nnprobe: C1: same_padding needs stride 1 (as in PyTorch): give the padding "
                      "explicitly with padding<P>");
        return invalid_graph{};
    } else if constexpr (detail::window_fit_of<L, in>() == detail::window_fit::kernel_exceeds_input) {
        using W = typename L::template window<in>;
        static_assert(detail::kernel_larger_than_padded_input<
                          detail::node_ref<next, L>, detail::input_chw<W::channels, W::height, W::width>,
                          detail::padded_hw<W::padded_h, W::padded_w>,
                          detail::kernel_dilation_span<W::kernel, W::dilation, W::span>>::value,
                      "nnprobe: C1: shape mismatch: the kernel is larger than the (padded) input: "
                      "sizes below");
        return invalid_graph{};
    } else if constexpr (detail::window_fit_of<L, in>() == detail::window_fit::output_empty) {
        using W = typename L::template window<in>;
        static_assert(detail::output_size_zero<
                          detail::node_ref<next, L>, detail::input_chw<W::channels, W::height, W::width>,
                          detail::padded_hw<W::padded_h, W::padded_w>,
                          detail::kernel_dilation_span<W::kernel, W::dilation, W::span>>::value,
                      "nnprobe: C1: shape mismatch: output size zero: the dilated kernel spans more "
                      "than the (padded) input: sizes below");
        return invalid_graph{};
    } else if constexpr (detail::uses_mask<L>() && !detail::is_sequence<in>) {
        static_assert(detail::padding_mask_on_a_node_without_positions<
                          detail::node_ref<G::cursor, in>, detail::node_ref<G::size, L>>::value,
                      "nnprobe: C1: this layer reads the padding mask, whose length axis is the "
                      "positions of a sequence, and its input has no positions (already pooled, or "
                      "not a sequence): apply it to the T x D node before the pooling");
        return invalid_graph{};
    } else if constexpr (!detail::layer_accepts<L, in>() && detail::is_sequence<in> &&
                         detail::batch_statistics<L>()) {
        static_assert(detail::batch_statistics_over_a_sequence<detail::node_ref<G::cursor, in>,
                                                               detail::node_ref<G::size, L>>::value,
                      "nnprobe: C1: batch_norm (statistics over the batch) does not take a sequence: "
                      "they would mix positions and count the padding. Normalise each position "
                      "with nnp::layer_norm (as transformers do), or pool over the positions first");
        return invalid_graph{};
    } else if constexpr (!detail::layer_accepts<L, in>()) {
        // One condition, two wordings: the common case (a rank>1 shape reaching a layer
        // that wants features) gets the fix spelled out.
        if constexpr (detail::is_sequence<in>) {
            static_assert(detail::shape_mismatch<detail::node_ref<C, in>,
                                                 detail::node_ref<next, L>>::value,
                          "nnprobe: C1: shape mismatch: this layer does not accept this sequence "
                          "(attention heads must divide its width; token ids need an embedding "
                          "first; a flat layer needs a pooling over positions)");
        } else if constexpr (in::rank > 1) {
            static_assert(detail::shape_mismatch<detail::node_ref<C, in>,
                                                 detail::node_ref<next, L>>::value,
                          "nnprobe: C1: shape mismatch: this layer does not accept its rank > 1 "
                          "input (dense and the other feature layers need a flat one: insert "
                          "nnp::flatten before it)");
        } else {
            static_assert(detail::shape_mismatch<detail::node_ref<C, in>,
                                                 detail::node_ref<next, L>>::value,
                          "nnprobe: C1: shape mismatch: this layer does not accept its input's "
                          "shape (its accepts<In> is false)");
        }
        return invalid_graph{};
    } else if constexpr (detail::ignores_padding<L, in>()) {
        static_assert(detail::reduces_padded_positions_without_mask<
                          detail::node_ref<C, in>, detail::node_ref<next, L>>::value,
                      "nnprobe: C8: this layer reduces over the positions of a padded sequence "
                      "without its padding mask: the padding would count. Use the masked layer "
                      "(masked_mean_pool, last_token_pool, ...), or mark the sequence "
                      "nnp::padding_ok before it if counting the padding is intended");
        return invalid_graph{};
    } else if constexpr (detail::foreign_length_axis<typename L::template output_shape<in>,
                                                     typename Nodes::first_type::shape_type>()) {
        static_assert(detail::length_axis_not_the_inputs<
                          detail::node_ref<0, typename Nodes::first_type::shape_type>,
                          detail::node_ref<G::size, L>,
                          typename L::template output_shape<in>>::value,
                      "nnprobe: C1: this node's positions are not the input's: the batch's padding "
                      "mask describes the positions of the input sequence (node 0), and every "
                      "sequence node must keep them (a layer may change a sequence's width, not its "
                      "length axis)");
        return invalid_graph{};
    } else if constexpr (L::linearity == linearity_class::affine_mixing &&
                         detail::mixing_behind<Nodes, C>::value != detail::npos) {
        constexpr std::size_t prev = detail::mixing_behind<Nodes, C>::value;
        static_assert(
            detail::no_nonlinearity_between<
                detail::node_ref<prev, typename detail::chain_node<Nodes, prev>::type::layer_type>,
                                            detail::node_ref<next, L>>::value,
            "nnprobe: C2: two affine layers with no nonlinearity between them: together they "
            "are one affine map. Insert relu/tanh_act/... or mark the junction nnp::linear_ok");
        return invalid_graph{};
    } else {
        return detail::append<L, typename L::template output_shape<in>, C>(g.nodes, l);
    }
}

template <std::size_t C, class Nodes, fixed_string Name>
constexpr auto operator|(const graph_expr<C, Nodes>& g, named_t<Name>) {
    if constexpr (detail::node_named<Name, Nodes>::value != detail::npos) {
        static_assert(detail::name_already_used<typename detail::spelled<Name>::type>::value,
                      "nnprobe: two nodes share this name: node names must be unique");
        return invalid_graph{};
    } else {
        return detail::built(detail::rename<Name>(g));
    }
}

template <std::size_t C, class Nodes, fixed_string Name>
constexpr auto operator|(const graph_expr<C, Nodes>& g, from_t<Name>) {
    constexpr std::size_t i = detail::node_named<Name, Nodes>::value;
    if constexpr (i == detail::npos) {
        static_assert(detail::no_node_named<typename detail::spelled<Name>::type>::value,
                      "nnprobe: from<...> names no node: name it first with named<...>");
        return invalid_graph{};
    } else {
        return detail::move_cursor<i>(g);
    }
}

template <std::size_t C, class Nodes, fixed_string Name>
constexpr auto operator|(const graph_expr<C, Nodes>& g, add_with_t<Name>) {
    constexpr std::size_t other = detail::node_named<Name, Nodes>::value;
    if constexpr (other == detail::npos) {
        static_assert(detail::no_node_named<typename detail::spelled<Name>::type>::value,
                      "nnprobe: add<...> names no node: name it first with named<...>");
        return invalid_graph{};
    } else if constexpr (detail::only_channels_differ<detail::chain_shape<Nodes, other>,
                                                      detail::chain_shape<Nodes, C>>) {
        static_assert(detail::channel_mismatch<detail::node_ref<other, detail::chain_shape<Nodes, other>>,
                                               detail::node_ref<C, detail::chain_shape<Nodes, C>>>::value,
                      "nnprobe: C1: channel mismatch: add<...> joins images with different channel "
                      "counts (shapes below)");
        return invalid_graph{};
    } else if constexpr (!std::is_same_v<detail::chain_shape<Nodes, C>, detail::chain_shape<Nodes, other>>) {
        static_assert(detail::shape_mismatch<detail::node_ref<other, detail::chain_shape<Nodes, other>>,
                                             detail::node_ref<C, detail::chain_shape<Nodes, C>>>::value,
                      "nnprobe: C1: shape mismatch: add<...> joins two nodes of different shapes");
        return invalid_graph{};
    } else {
        return detail::append<add_t, detail::chain_shape<Nodes, other>, C, other>(g.nodes, add_t{});
    }
}

template <std::size_t C, class Nodes, fixed_string Name>
constexpr auto operator|(const graph_expr<C, Nodes>& g, concat_with_t<Name>) {
    constexpr std::size_t other = detail::node_named<Name, Nodes>::value;
    if constexpr (other == detail::npos) {
        static_assert(detail::no_node_named<typename detail::spelled<Name>::type>::value,
                      "nnprobe: concat<...> names no node: name it first with named<...>");
        return invalid_graph{};
    } else if constexpr (!detail::concatenable<detail::chain_shape<Nodes, C>, detail::chain_shape<Nodes, other>>) {
        static_assert(detail::shape_mismatch<detail::node_ref<other, detail::chain_shape<Nodes, other>>,
                                             detail::node_ref<C, detail::chain_shape<Nodes, C>>>::value,
                      "nnprobe: C1: shape mismatch: concat<...> joins flat (rank-1) nodes, or images "
                      "(C x H x W) of the same height and width");
        return invalid_graph{};
    } else {
        using out = typename detail::concat_shape<detail::chain_shape<Nodes, C>,
                                                  detail::chain_shape<Nodes, other>>::type;
        return detail::append<concat_t, out, C, other>(g.nodes, concat_t{});
    }
}

// Once a check has failed, stay silent.
template <class X>
constexpr invalid_graph operator|(invalid_graph, const X&) {
    return {};
}

}  // namespace nnp

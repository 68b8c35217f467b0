#pragma once
// A typed visit over a model's nodes, for probes of one's own: every node with its static
// layer type and shapes, and the model's runtime state of it (outputs, gradients, runtime
// part). The node types form a Boost.Hana tuple, so hana::filter picks nodes by type at
// compile time and for_each_node visits the picked ones, each with its own type.
//
//   auto relus = boost::hana::filter(nnp::node_types<G>, nnp::layer_is<nnp::relu_t>);
//   nnp::for_each_node(m, relus, [&](auto node) {
//       constexpr std::size_t units = decltype(node)::shape::size;  // from the graph's type
//       const auto& y = node.output();                               // from the last pass
//   });
//
// Only Hana's tuple, type, filter and for_each headers are read (about 0.1 s of compile time).
#include <cstddef>
#include <type_traits>
#include <utility>

#include <boost/hana/bool.hpp>
#include <boost/hana/filter.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include "model.hpp"

namespace nnp {

// Node I of graph G as a type: its layer, its output shape and its (first) input's shape
// (node 0, the input, is its own input).
template <class G, std::size_t I>
struct node_type {
    static constexpr std::size_t index = I;
    using layer = detail::layer_at<G, I>;
    using shape = detail::shape_at<G, I>;
    using input_shape = detail::shape_at<G, detail::structure<G>::first_input[I] == detail::npos
                                               ? 0 : detail::structure<G>::first_input[I]>;
    static constexpr linearity_class linearity = layer::linearity;
};

// Every node of G, as hana::type<node_type<G, I>> in node order.
template <class G>
constexpr auto node_types = []<std::size_t... I>(std::index_sequence<I...>) {
    return boost::hana::tuple_t<node_type<G, I>...>;
}(std::make_index_sequence<G::size>{});

// A predicate for hana::filter: the nodes whose layer is L.
template <class L>
constexpr auto layer_is = [](auto t) {
    return boost::hana::bool_c<std::is_same_v<typename decltype(t)::type::layer, L>>;
};

// What a visit hands over: node I's static type, and the model's runtime state of it.
template <class T, class G, std::size_t I>
struct node_view : node_type<G, I> {
    model<T, G>& m;
    const matrix<T>& output() const { return m.output(I); }
    const matrix<T>& gradient() const { return m.gradient(I); }
    const node_info& info() const { return m.node(I); }
    auto& runtime_part() const { return m.template layer<I>(); }
};

// f(node_view) for each node of `types` (node_types<G>, or a hana::filter of it), in order.
template <class T, class G, class Types, class F>
void for_each_node(model<T, G>& m, Types types, F&& f) {
    boost::hana::for_each(types, [&](auto t) {
        using N = typename decltype(t)::type;
        f(node_view<T, G, N::index>{{}, m});
    });
}
template <class T, class G, class F>
void for_each_node(model<T, G>& m, F&& f) {
    for_each_node(m, node_types<G>, std::forward<F>(f));
}

}  // namespace nnp

#pragma once
// A tuple for hundreds of elements: each element is a base class tagged with its index, so
// building one, reading element I and naming element I's type cost the compiler O(1) steps
// each. std::tuple nests one base per element and checks its constructors with recursive
// traits: a graph of N nodes builds N tuples on its way, and compile time grew with N^3.
//
//   detail::flat_tuple<int, float> t{{1}, {2.5f}};
//   detail::get<1>(t) == 2.5f;  detail::element_t<0, decltype(t)> is int
#include <cstddef>
#include <utility>

namespace nnp::detail {

template <std::size_t I, class T>
struct tuple_slot {
    T value;
    // Element I of a tuple whose type is known: one plain function, nothing to deduce or
    // choose between (the get<I, T> pair costs a graph `|` far more, once per node).
    static constexpr const T& of(const tuple_slot& s) { return s.value; }
};

template <class Seq, class... T>
struct flat_tuple_of;
template <std::size_t... I, class... T>
struct flat_tuple_of<std::index_sequence<I...>, T...> : tuple_slot<I, T>... {};

// An aggregate: initialise it with one braced initialiser per element.
template <class... T>
using flat_tuple = flat_tuple_of<std::index_sequence_for<T...>, T...>;

// Element I, found by deducing the one base tagged I (no recursion).
template <std::size_t I, class T>
constexpr T& get(tuple_slot<I, T>& s) {
    return s.value;
}
template <std::size_t I, class T>
constexpr const T& get(const tuple_slot<I, T>& s) {
    return s.value;
}

template <std::size_t I, class T>
T element_of(const tuple_slot<I, T>&);  // never defined: only its return type is read
template <std::size_t I, class Tuple>
using element_t = decltype(element_of<I>(std::declval<const Tuple&>()));

}  // namespace nnp::detail

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

// A tuple grown one element at a time: each link holds the previous links and the new
// element, so a link's type names only the previous link and the new element (a flat_tuple
// spells all N: building N of them one element at a time costs the compiler N^2). Its parts
// are read through prev_type, last_type and size, and by walking `prev`.
//
// The links hold, they do not derive: a name looked up in a class is looked up in all its
// bases too. A link is a class nested in chain_link<Prev, T>, not chain_link itself:
// argument-dependent lookup (every `|` on a graph does one) visits the template arguments of
// a class template specialisation, and a nested class has none of its own.
//
//   detail::chain<detail::chain<detail::chain_end, int>, float> c{{{}, 1}, 2.5f};
//   c.last == 2.5f;  c.prev.last == 1;  decltype(c)::size == 2
struct chain_end {
    enum : std::size_t { size = 0 };
};
template <class Prev, class T>
struct chain_link {
    struct type {
        enum : std::size_t { size = Prev::size + 1 };
        using prev_type = Prev;
        using first_type = typename Prev::first_type;
        using last_type = T;
        Prev prev;
        T last;
    };
};
template <class T>
struct chain_link<chain_end, T> {
    struct type {
        enum : std::size_t { size = 1 };
        using prev_type = chain_end;
        using first_type = T;
        using last_type = T;
        [[no_unique_address]] chain_end prev;
        T last;
    };
};
template <class Prev, class T>
using chain = typename chain_link<Prev, T>::type;

template <std::size_t I, class T>
T element_of(const tuple_slot<I, T>&);  // never defined: only its return type is read
template <std::size_t I, class Tuple>
using element_t = decltype(element_of<I>(std::declval<const Tuple&>()));

}  // namespace nnp::detail

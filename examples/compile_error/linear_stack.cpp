// Does not compile, on purpose: the message nnprobe gives for a linear-only stack (check C2).
// Two dense layers with nothing nonlinear between them compose to one affine map, so the
// hidden layer adds parameters but no expressive power. The graph is checked where it is
// written, at the `|`, and g++ 12 says (run from the repository root):
//
//   $ g++ -std=c++20 -fsyntax-only -Iinclude examples/compile_error/linear_stack.cpp
//   In file included from include/nnprobe/nnprobe.hpp:5,
//                    from examples/compile_error/linear_stack.cpp:23:
//   include/nnprobe/graph.hpp: In instantiation of ‘constexpr auto nnp::operator|(const G&, const L&) [with G = graph<1, node<input_t<shape<4> >, shape<4>, fixed_string<1>{""}>, node<dense_t<16, true>, shape<16>, fixed_string<1>{""}, 0> >; L = dense_t<3, true>]’:
//   examples/compile_error/linear_stack.cpp:25:60:   required from here
//   include/nnprobe/graph.hpp:352:76: error: static assertion failed: nnprobe: C2: two affine layers with no nonlinearity between them: together they are one affine map. Insert relu/tanh_act/... or mark the junction nnp::linear_ok
//     352 |                                             detail::node_ref<G::size, L>>::value,
//         |                                                                            ^~~~~
//   include/nnprobe/graph.hpp:352:76: note: ‘nnp::detail::no_nonlinearity_between<nnp::detail::node_ref<1, nnp::dense_t<16, true> >, nnp::detail::node_ref<2, nnp::dense_t<3, true> > >::value’ evaluates to false
//
// The first lines are the include chain and the instantiation; line 5 is the message, and the
// note names the two nodes: node 1 (dense<16>) and node 2 (dense<3>). clang 14 prints the
// message on line 3, with the same node_ref<...> pair in its "requirement".
//
// Fix: a nonlinearity between them, `nnp::dense<16> | nnp::relu | nnp::dense<3>`, or, when
// the factorisation is intended (a low-rank layer), say so locally:
// `nnp::dense<16> | nnp::linear_ok | nnp::dense<3>`.
#include <nnprobe/nnprobe.hpp>

constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::dense<3>;

int main() {
    auto model = nnp::make_model(net, nnp::seed{1});
    (void)model;
}

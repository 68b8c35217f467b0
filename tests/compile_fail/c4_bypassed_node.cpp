// C4: a node that does not reach the output. The branch dense<8> | relu after "a" is
// declared, then from<"a"> starts a new branch and nothing joins it back: node 3 (dense<8>)
// is the first node whose output is never used (fires in make_model).
// Twin: the branch is named and concatenated back.
// expect: nnprobe: C4: a node does not reach the output
// expect: node_does_not_reach_output<nnp::detail::node_ref<3, nnp::dense_t<8, true>>>
#include <nnprobe/nnprobe.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::named<"a">
                   | nnp::dense<8> | nnp::relu | nnp::named<"b">
                   | nnp::from<"a"> | nnp::dense<8> | nnp::relu | nnp::concat<"b">
                   | nnp::dense<3>;
#else
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::named<"a">
                   | nnp::dense<8> | nnp::relu
                   | nnp::from<"a"> | nnp::dense<8> | nnp::relu
                   | nnp::dense<3>;
#endif

int main() {
    auto model = nnp::make_model(net, nnp::seed{1});
    (void)model;
}

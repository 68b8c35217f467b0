// C1: add<"x"> joins two nodes of different shapes. The residual branch ends in dense<8>,
// the node it is added to (node 2, "skip") has 16 features.
// Twin: the branch keeps the width (dense<16>), so the add is well-formed.
// expect: nnprobe: C1: shape mismatch: add<...> joins two nodes of different shapes
// expect: shape_mismatch<nnp::detail::node_ref<2, nnp::shape<16>>, nnp::detail::node_ref<4, nnp::shape<8>>>
#include <nnprobe/nnprobe.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<8> | nnp::dense<16> | nnp::relu | nnp::named<"skip">
                   | nnp::dense<16> | nnp::relu | nnp::add<"skip"> | nnp::dense<3>;
#else
constexpr auto net = nnp::input<8> | nnp::dense<16> | nnp::relu | nnp::named<"skip">
                   | nnp::dense<8> | nnp::relu | nnp::add<"skip"> | nnp::dense<3>;
#endif

int main() {
    auto model = nnp::make_model(net, nnp::seed{1});
    (void)model;
}

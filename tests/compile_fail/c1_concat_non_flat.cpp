// C1: concat<"x"> joins flat nodes or images, not one with the other; "image" (node 0) is 1 x 4 x 4.
// Twin: name the flattened node instead.
// expect: nnprobe: C1: shape mismatch: concat<...> joins flat (rank-1) nodes, or images
// expect: shape_mismatch<nnp::detail::node_ref<0, nnp::shape<1, 4, 4>>, nnp::detail::node_ref<3, nnp::shape<8>>>
#include <nnprobe/nnprobe.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<1, 4, 4> | nnp::flatten | nnp::named<"image">
                   | nnp::dense<8> | nnp::relu | nnp::concat<"image"> | nnp::dense<3>;
#else
constexpr auto net = nnp::input<1, 4, 4> | nnp::named<"image"> | nnp::flatten
                   | nnp::dense<8> | nnp::relu | nnp::concat<"image"> | nnp::dense<3>;
#endif

int main() {
    auto model = nnp::make_model(net, nnp::seed{1});
    (void)model;
}

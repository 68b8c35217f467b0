// C1: concat<"x"> joins images along the channel axis; the branch was pooled to 4 x 4 while
// node 2 ("x") is 8 x 8. Twin: the branch keeps 8 x 8 (same padding, no pooling).
// expect: nnprobe: C1: shape mismatch: concat<...> joins flat (rank-1) nodes, or images (C x H x W) of the same height and width
// expect: shape_mismatch<nnp::detail::node_ref<2, nnp::shape<4, 8, 8>>, nnp::detail::node_ref<4, nnp::shape<6, 4, 4>>>
#include <nnprobe/graph.hpp>
#include <nnprobe/layers/activations.hpp>
#include <nnprobe/layers/conv.hpp>
#include <nnprobe/layers/pooling.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<1, 8, 8> | nnp::conv2d<4, 3, nnp::same_padding> | nnp::relu | nnp::named<"x">
                   | nnp::conv2d<6, 3, nnp::same_padding> | nnp::relu | nnp::concat<"x">;
#else
constexpr auto net = nnp::input<1, 8, 8> | nnp::conv2d<4, 3, nnp::same_padding> | nnp::relu | nnp::named<"x">
                   | nnp::conv2d<6, 3, nnp::same_padding> | nnp::max_pool2d<2> | nnp::concat<"x">;
#endif

int main() { (void)net; }

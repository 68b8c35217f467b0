// C1: a residual add<"x"> joins an 8-channel image with a 16-channel one (same 4 x 4 size).
// Twin: the branch keeps 8 channels.
// expect: nnprobe: C1: channel mismatch: add<...> joins images with different channel counts
// expect: channel_mismatch<nnp::detail::node_ref<2, nnp::shape<8, 4, 4>>, nnp::detail::node_ref<4, nnp::shape<16, 4, 4>>>
#include <nnprobe/graph.hpp>
#include <nnprobe/layers/activations.hpp>
#include <nnprobe/layers/conv.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<1, 4, 4> | nnp::conv2d<8, 3, nnp::same_padding> | nnp::relu | nnp::named<"x">
                   | nnp::conv2d<8, 3, nnp::same_padding> | nnp::relu | nnp::add<"x">;
#else
constexpr auto net = nnp::input<1, 4, 4> | nnp::conv2d<8, 3, nnp::same_padding> | nnp::relu | nnp::named<"x">
                   | nnp::conv2d<16, 3, nnp::same_padding> | nnp::relu | nnp::add<"x">;
#endif

int main() { (void)net; }

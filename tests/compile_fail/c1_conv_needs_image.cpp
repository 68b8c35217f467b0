// C1: conv2d takes C x H x W images; the 64 digits pixels were declared flat.
// Twin: the input declared as one 8 x 8 channel.
// expect: nnprobe: C1: shape mismatch: this layer takes C x H x W images, its input is not rank 3
// expect: layer_takes_c_h_w_images<nnp::detail::node_ref<0, nnp::shape<64>>, nnp::detail::node_ref<1, nnp::conv2d_t<8, 3, true>>>
#include <nnprobe/graph.hpp>
#include <nnprobe/layers/conv.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<1, 8, 8> | nnp::conv2d<8, 3>;
#else
constexpr auto net = nnp::input<64> | nnp::conv2d<8, 3>;
#endif

int main() { (void)net; }

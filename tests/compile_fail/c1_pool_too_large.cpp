// C1: a 3 x 3 max pooling on a 2 x 2 image (valid 3 x 3 conv of 4 x 4): no window fits.
// Twin: a 2 x 2 pooling.
// expect: nnprobe: C1: shape mismatch: the kernel is larger than the (padded) input
// expect: kernel_larger_than_padded_input<nnp::detail::node_ref<3, nnp::max_pool2d_t<3>>, nnp::detail::input_chw<8, 2, 2>, nnp::detail::padded_hw<2, 2>, nnp::detail::kernel_dilation_span<3, 1, 3>>
#include <nnprobe/graph.hpp>
#include <nnprobe/layers/activations.hpp>
#include <nnprobe/layers/conv.hpp>
#include <nnprobe/layers/pooling.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<1, 4, 4> | nnp::conv2d<8, 3> | nnp::relu | nnp::max_pool2d<2>;
#else
constexpr auto net = nnp::input<1, 4, 4> | nnp::conv2d<8, 3> | nnp::relu | nnp::max_pool2d<3>;
#endif

int main() { (void)net; }

// C1: a 5 x 5 kernel on a 4 x 4 image (after a 2 x 2 pooling of 8 x 8) with no padding: no
// output position fits. The message's stand-in names the sizes.
// Twin: padding<1> makes the input 6 x 6, and the kernel fits.
// expect: nnprobe: C1: shape mismatch: the kernel is larger than the (padded) input
// expect: kernel_larger_than_padded_input<nnp::detail::node_ref<4, nnp::conv2d_t<8, 5, true>>, nnp::detail::input_chw<4, 4, 4>, nnp::detail::padded_hw<4, 4>, nnp::detail::kernel_dilation_span<5, 1, 5>>
#include <nnprobe/graph.hpp>
#include <nnprobe/layers/activations.hpp>
#include <nnprobe/layers/conv.hpp>
#include <nnprobe/layers/pooling.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<1, 8, 8> | nnp::conv2d<4, 3, nnp::same_padding> | nnp::relu
                   | nnp::max_pool2d<2> | nnp::conv2d<8, 5, nnp::padding<1>>;
#else
constexpr auto net = nnp::input<1, 8, 8> | nnp::conv2d<4, 3, nnp::same_padding> | nnp::relu
                   | nnp::max_pool2d<2> | nnp::conv2d<8, 5>;
#endif

int main() { (void)net; }

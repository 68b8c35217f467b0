// C1: output size zero: a 3 x 3 kernel with dilation 3 spans 7 pixels, more than the 6 x 6
// input (the kernel itself would fit). Twin: dilation 2 spans 5.
// expect: nnprobe: C1: shape mismatch: output size zero: the dilated kernel spans more than the (padded) input
// expect: output_size_zero<nnp::detail::node_ref<1, nnp::conv2d_t<4, 3, true, nnp::dilation<3>>>, nnp::detail::input_chw<2, 6, 6>, nnp::detail::padded_hw<6, 6>, nnp::detail::kernel_dilation_span<3, 3, 7>>
#include <nnprobe/graph.hpp>
#include <nnprobe/layers/conv.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<2, 6, 6> | nnp::conv2d<4, 3, nnp::dilation<2>>;
#else
constexpr auto net = nnp::input<2, 6, 6> | nnp::conv2d<4, 3, nnp::dilation<3>>;
#endif

int main() { (void)net; }

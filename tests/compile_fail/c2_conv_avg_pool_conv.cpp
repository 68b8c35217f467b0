// C2: conv2d | avg_pool2d | conv2d: average pooling is linear, so the two convolutions with
// nothing nonlinear between them are one linear map. Twin: a relu after the first conv.
// expect: nnprobe: C2: two affine layers with no nonlinearity between them
// expect: no_nonlinearity_between<nnp::detail::node_ref<1, nnp::conv2d_t<8, 3, true, nnp::same_padding>>, nnp::detail::node_ref<3, nnp::conv2d_t<16, 3, true, nnp::same_padding>>>
#include <nnprobe/graph.hpp>
#include <nnprobe/layers/activations.hpp>
#include <nnprobe/layers/conv.hpp>
#include <nnprobe/layers/pooling.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<1, 8, 8> | nnp::conv2d<8, 3, nnp::same_padding> | nnp::relu
                   | nnp::avg_pool2d<2> | nnp::conv2d<16, 3, nnp::same_padding>;
#else
constexpr auto net = nnp::input<1, 8, 8> | nnp::conv2d<8, 3, nnp::same_padding>
                   | nnp::avg_pool2d<2> | nnp::conv2d<16, 3, nnp::same_padding>;
#endif

int main() { (void)net; }

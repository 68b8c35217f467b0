// C1: same padding with stride 2 (PyTorch refuses it too: the output could not be as large as
// the input). Twin: explicit padding<1>.
// expect: nnprobe: C1: same_padding needs stride 1
// expect: same_padding_with_stride<nnp::detail::node_ref<1, nnp::conv2d_t<8, 3, true, nnp::stride<2>, nnp::same_padding>>, nnp::stride<2>>
#include <nnprobe/graph.hpp>
#include <nnprobe/layers/conv.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<1, 8, 8> | nnp::conv2d<8, 3, nnp::stride<2>, nnp::padding<1>>;
#else
constexpr auto net = nnp::input<1, 8, 8> | nnp::conv2d<8, 3, nnp::stride<2>, nnp::same_padding>;
#endif

int main() { (void)net; }

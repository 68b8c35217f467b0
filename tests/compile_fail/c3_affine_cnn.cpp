// C3: conv2d | avg_pool2d | global_avg_pool has no nonlinear node: average pooling is linear,
// so the whole network is one affine map of its input. Twin: max pooling, which is not.
// expect: nnprobe: C3: the whole network is affine in its input
// expect: network_is_affine_in_its_input<nnp::detail::node_ref<0, nnp::shape<1, 8, 8>>, nnp::detail::node_ref<3, nnp::global_avg_pool_t>>
#include <nnprobe/model.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<1, 8, 8> | nnp::conv2d<8, 3, nnp::same_padding> | nnp::max_pool2d<2>
                   | nnp::global_avg_pool;
#else
constexpr auto net = nnp::input<1, 8, 8> | nnp::conv2d<8, 3, nnp::same_padding> | nnp::avg_pool2d<2>
                   | nnp::global_avg_pool;
#endif

int main() {
    auto model = nnp::make_model(net, nnp::seed{1});
    (void)model;
}

// C3: no nonlinearity anywhere: the whole network is affine in its input (fires in
// make_model, which sees the whole graph). Twin: a hidden layer with relu.
// expect: nnprobe: C3: the whole network is affine in its input
// expect: network_is_affine_in_its_input<nnp::detail::node_ref<0, nnp::shape<4>>, nnp::detail::node_ref<1, nnp::dense_t<3, true>>>
#include <nnprobe/nnprobe.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<3>;
#else
constexpr auto net = nnp::input<4> | nnp::dense<3>;
#endif

int main() {
    auto model = nnp::make_model(net, nnp::seed{1});
    (void)model;
}

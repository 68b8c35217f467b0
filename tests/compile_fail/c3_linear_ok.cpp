// C3 and its opt-out. Multinomial logistic regression, dense<3> | softmax, is affine up to
// the output head (a final softmax does not count as a hidden nonlinearity), so C3 fires.
// Twin: an intentionally linear model says so with nnp::linear_ok.
// expect: nnprobe: C3: the whole network is affine in its input
// expect: or mark it nnp::linear_ok
// expect: network_is_affine_in_its_input<nnp::detail::node_ref<0, nnp::shape<4>>, nnp::detail::node_ref<2, nnp::detail::softmax_spec<false>>>
#include <nnprobe/nnprobe.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<4> | nnp::dense<3> | nnp::linear_ok | nnp::softmax;
#else
constexpr auto net = nnp::input<4> | nnp::dense<3> | nnp::softmax;
#endif

int main() {
    auto model = nnp::make_model(net, nnp::seed{1});
    (void)model;
}

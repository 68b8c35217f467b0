// C2 looks through elementwise-linear nodes: dropout is not a nonlinearity, so
// dense<16> | dropout(0.5) | dense<3> is still one affine map (with noise).
// Twin: the explicit opt-out `| nnp::linear_ok |` on the junction (a factorised layer).
// expect: nnprobe: C2: two affine layers with no nonlinearity between them
// expect: mark the junction nnp::linear_ok
// expect: no_nonlinearity_between<nnp::detail::node_ref<1, nnp::dense_t<16, true>>, nnp::detail::node_ref<3, nnp::dense_t<3, true>>>
#include <nnprobe/nnprobe.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::dropout(0.5) | nnp::linear_ok
                   | nnp::dense<3>;
#else
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::dropout(0.5) | nnp::dense<3>;
#endif

int main() {
    auto model = nnp::make_model(net, nnp::seed{1});
    (void)model;
}

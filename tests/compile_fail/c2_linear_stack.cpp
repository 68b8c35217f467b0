// C2: two dense layers back to back are one affine map (dense<3> . dense<16> has rank <= 4).
// Twin: a relu between them.
// expect: nnprobe: C2: two affine layers with no nonlinearity between them
// expect: no_nonlinearity_between<nnp::detail::node_ref<1, nnp::dense_t<16, true>>, nnp::detail::node_ref<2, nnp::dense_t<3, true>>>
#include <nnprobe/nnprobe.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<3>;
#else
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::dense<3>;
#endif

int main() {
    auto model = nnp::make_model(net, nnp::seed{1});
    (void)model;
}

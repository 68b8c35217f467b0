// C1: dense needs a flat (rank-1) input; an image-shaped input (1 x 8 x 8) reaches it
// directly. Twin: nnp::flatten in between.
// expect: nnprobe: C1: shape mismatch: this layer does not accept its rank > 1 input
// expect: insert nnp::flatten before it
// expect: shape_mismatch<nnp::detail::node_ref<0, nnp::shape<1, 8, 8>>, nnp::detail::node_ref<1, nnp::dense_t<16, true>>>
#include <nnprobe/nnprobe.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<1, 8, 8> | nnp::flatten | nnp::dense<16> | nnp::relu | nnp::dense<4>;
#else
constexpr auto net = nnp::input<1, 8, 8> | nnp::dense<16> | nnp::relu | nnp::dense<4>;
#endif

int main() {
    auto model = nnp::make_model(net, nnp::seed{1});
    (void)model;
}

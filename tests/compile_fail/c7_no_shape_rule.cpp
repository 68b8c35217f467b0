// C7: a user-defined layer must state its shape rule (`output_shape`), so that every node's
// shape is inferred at compile time.
// Twin: the layer states it. (Only `|` is used, so the layer needs no runtime impl.)
// expect: nnprobe: C7: this user-defined layer has no shape rule
// expect: layer_without_shape_rule<nnp::detail::node_ref<3, square>, nnp::shape<16>>
#include <nnprobe/nnprobe.hpp>

// y = x * x, elementwise.
struct square {
    static constexpr nnp::linearity_class linearity = nnp::linearity_class::nonlinear;
#ifdef NNP_TWIN
    template <class In>
    using output_shape = In;
#endif
};

constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | square{} | nnp::dense<3>;

int main() { (void)net; }

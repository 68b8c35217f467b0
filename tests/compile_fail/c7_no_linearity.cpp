// C7: a user-defined layer must state its linearity class (C2 and C3 need it).
// Twin: the layer states it. (Only `|` is used, so the layer needs no runtime impl.)
// expect: nnprobe: C7: this user-defined layer does not state its linearity class
// expect: layer_without_linearity_class<nnp::detail::node_ref<3, square>>
#include <nnprobe/nnprobe.hpp>

// y = x * x, elementwise.
struct square {
#ifdef NNP_TWIN
    static constexpr nnp::linearity_class linearity = nnp::linearity_class::nonlinear;
#endif
    template <class In>
    using output_shape = In;
};

constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | square{} | nnp::dense<3>;

int main() { (void)net; }

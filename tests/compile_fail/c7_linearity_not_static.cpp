// C7: a user layer's linearity must be a static member (the checks read it from the type);
// a non-static one is reported as such, not as a C2 or shape error.
// Twin: static constexpr.
// expect: nnprobe: C7: this user-defined layer's linearity is not static
// expect: layer_with_non_static_linearity<nnp::detail::node_ref<3, square>>
#include <nnprobe/graph.hpp>
#include <nnprobe/layers/activations.hpp>
#include <nnprobe/layers/dense.hpp>

// y = x * x, elementwise.
struct square {
#ifdef NNP_TWIN
    static constexpr nnp::linearity_class linearity = nnp::linearity_class::nonlinear;
#else
    nnp::linearity_class linearity = nnp::linearity_class::nonlinear;
#endif
    template <class In>
    using output_shape = In;
};

constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | square{} | nnp::dense<3>;

int main() { (void)net; }

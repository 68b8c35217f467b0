// C1: a user-defined layer whose `accepts<In>` is false for its input: pair_max takes the
// maximum of adjacent feature pairs and needs an even number of features.
// Twin: 6 input features.
// expect: nnprobe: C1: shape mismatch: this layer does not accept its input's shape
// expect: shape_mismatch<nnp::detail::node_ref<0, nnp::shape<5>>, nnp::detail::node_ref<1, pair_max>>
#include <nnprobe/nnprobe.hpp>

struct pair_max {
    static constexpr nnp::linearity_class linearity = nnp::linearity_class::nonlinear;
    template <class In>
    using output_shape = nnp::shape<In::size / 2>;
    template <class In>
    static constexpr bool accepts = In::rank == 1 && In::size % 2 == 0;
};

#ifdef NNP_TWIN
constexpr auto net = nnp::input<6> | pair_max{} | nnp::dense<3>;
#else
constexpr auto net = nnp::input<5> | pair_max{} | nnp::dense<3>;
#endif

int main() { (void)net; }

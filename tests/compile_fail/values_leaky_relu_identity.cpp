// leaky_relu(1) is the identity: C2 would not see the two dense layers it joins. In a
// constexpr graph a compile error names it; at run time: an nnp::error.
// Twin: slope 0.1.
// expect: nnprobe_leaky_relu_slope_1_is_the_identity
#include <nnprobe/graph.hpp>
#include <nnprobe/layers/activations.hpp>
#include <nnprobe/layers/dense.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::leaky_relu(0.1) | nnp::dense<3>;
#else
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::leaky_relu(1) | nnp::dense<3>;
#endif

int main() { (void)net; }

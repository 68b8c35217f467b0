// dense<0> is named as such, not reported as a shape with a zero dimension.
// Twin: dense<1>.
// expect: nnprobe: dense<0>: a dense layer needs at least one output feature
#include <nnprobe/graph.hpp>
#include <nnprobe/layers/activations.hpp>
#include <nnprobe/layers/dense.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<1>;
#else
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<0>;
#endif

int main() { (void)net; }

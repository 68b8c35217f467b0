// A dropout rate outside [0, 1) in a constexpr graph: the compile error names the problem (a
// non-constexpr function called in the constant expression). At run time: an nnp::error.
// Twin: a rate in [0, 1).
// expect: nnprobe_dropout_rate_must_be_in_0_1
#include <nnprobe/graph.hpp>
#include <nnprobe/layers/activations.hpp>
#include <nnprobe/layers/dense.hpp>
#include <nnprobe/layers/dropout.hpp>

#ifdef NNP_TWIN
constexpr double rate = 0.5;
#else
constexpr double rate = 1.5;
#endif
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dropout(rate) | nnp::dense<3>;

int main() { (void)net; }

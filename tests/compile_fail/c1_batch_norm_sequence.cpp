// C1: batch_norm on a sequence: statistics over the batch would mix positions and count the
// padding. Twin: layer_norm, which normalises each position on its own.
// expect: nnprobe: C1: batch_norm (statistics over the batch) does not take a sequence
// expect: Normalise each position with nnp::layer_norm
// expect: batch_statistics_over_a_sequence<nnp::detail::node_ref<1, nnp::sequence<8, 16, true>>, nnp::detail::node_ref<2, nnp::batch_norm_t>>
#include <nnprobe/graph.hpp>
#include <nnprobe/layers/embedding.hpp>
#include <nnprobe/layers/normalisation.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::token_input<8> | nnp::embedding<32, 16> | nnp::layer_norm;
#else
constexpr auto net = nnp::token_input<8> | nnp::embedding<32, 16> | nnp::batch_norm;
#endif

int main() { (void)net; }

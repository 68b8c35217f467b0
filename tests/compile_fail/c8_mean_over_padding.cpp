// C8: a plain mean over the positions of a padded sequence counts the padding. Twin: the
// explicit opt-out, nnp::padding_ok, before it (the masked fix is masked_mean_pool).
// expect: nnprobe: C8: this layer reduces over the positions of a padded sequence without its padding mask
// expect: or mark the sequence nnp::padding_ok
// expect: reduces_padded_positions_without_mask<nnp::detail::node_ref<3, nnp::sequence<8, 16, true>>, nnp::detail::node_ref<4, nnp::mean_over_positions_t>>
#include <nnprobe/graph.hpp>
#include <nnprobe/layers/activations.hpp>
#include <nnprobe/layers/dense.hpp>
#include <nnprobe/layers/embedding.hpp>
#include <nnprobe/layers/masked_pooling.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::token_input<8> | nnp::embedding<32, 16> | nnp::dense<16> | nnp::relu |
                     nnp::padding_ok | nnp::mean_over_positions | nnp::dense<2>;
#else
constexpr auto net = nnp::token_input<8> | nnp::embedding<32, 16> | nnp::dense<16> | nnp::relu |
                     nnp::mean_over_positions | nnp::dense<2>;
#endif

int main() { (void)net; }

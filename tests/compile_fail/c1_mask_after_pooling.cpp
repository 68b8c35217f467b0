// C1: a layer that reads the padding mask (attention) on a node without positions: the mask's
// length axis does not belong to the pooled node. Twin: attention before the pooling.
// expect: nnprobe: C1: this layer reads the padding mask, whose length axis is the positions of a sequence
// expect: padding_mask_on_a_node_without_positions<nnp::detail::node_ref<2, nnp::shape<16>>, nnp::detail::node_ref<3, nnp::self_attention_t<4, false>>>
#include <nnprobe/graph.hpp>
#include <nnprobe/layers/attention.hpp>
#include <nnprobe/layers/embedding.hpp>
#include <nnprobe/layers/masked_pooling.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::token_input<8> | nnp::embedding<32, 16> | nnp::self_attention<4> |
                     nnp::masked_mean_pool;
#else
constexpr auto net = nnp::token_input<8> | nnp::embedding<32, 16> | nnp::masked_mean_pool |
                     nnp::self_attention<4>;
#endif

int main() { (void)net; }

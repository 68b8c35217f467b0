// C1: attention heads must split the width evenly: 3 heads on width 16 do not. Twin: 4 heads.
// expect: nnprobe: C1: shape mismatch: this layer does not accept this sequence
// expect: attention heads must divide its width
// expect: shape_mismatch<nnp::detail::node_ref<1, nnp::sequence<8, 16, true>>, nnp::detail::node_ref<2, nnp::self_attention_t<3, false>>>
#include <nnprobe/graph.hpp>
#include <nnprobe/layers/attention.hpp>
#include <nnprobe/layers/embedding.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::token_input<8> | nnp::embedding<32, 16> | nnp::self_attention<4>;
#else
constexpr auto net = nnp::token_input<8> | nnp::embedding<32, 16> | nnp::self_attention<3>;
#endif

int main() { (void)net; }

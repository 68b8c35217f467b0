// C6 on token data: sequences of up to 12 tokens, a network that takes up to 8.
// Twin: token_input<12>, the data's maximum length.
// expect: nnprobe: C6: token data of tokens<Vocab, MaxLen> needs a network that starts with token_input<MaxLen>
// expect: token_data_differs_from_network_input<nnp::tokens<16, 12>, nnp::sequence<8, 1, true>>
#include <nnprobe/layers/embedding.hpp>
#include <nnprobe/layers/masked_pooling.hpp>
#include <nnprobe/pipeline.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::token_input<12> | nnp::embedding<16, 8> | nnp::masked_mean_pool | nnp::dense<2>;
#else
constexpr auto net = nnp::token_input<8> | nnp::embedding<16, 8> | nnp::masked_mean_pool | nnp::dense<2>;
#endif

constexpr auto p = nnp::pipeline(nnp::data<nnp::tokens<16, 12>, nnp::classes<2>>, net, nnp::softmax_cross_entropy,
                                 nnp::adam{.lr = 1e-2});

int main() { (void)p; }

// C6 on token data: ids up to 31, an embedding table of 16 rows (ids 16 to 31 would throw in
// the middle of a run). Twin: embedding<32, 8>, the data's vocabulary.
// expect: nnprobe: C6: the data's token ids do not fit the embedding's table
// expect: data_vocabulary_exceeds_embedding<nnp::tokens<32, 8>, nnp::detail::node_ref<1, nnp::embedding_t<16, 8>>>
#include <nnprobe/layers/embedding.hpp>
#include <nnprobe/layers/masked_pooling.hpp>
#include <nnprobe/pipeline.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::token_input<8> | nnp::embedding<32, 8> | nnp::masked_mean_pool | nnp::dense<2>;
#else
constexpr auto net = nnp::token_input<8> | nnp::embedding<16, 8> | nnp::masked_mean_pool | nnp::dense<2>;
#endif

constexpr auto p = nnp::pipeline(nnp::data<nnp::tokens<32, 8>, nnp::classes<2>>, net, nnp::softmax_cross_entropy,
                                 nnp::adam{.lr = 1e-2});

int main() { (void)p; }

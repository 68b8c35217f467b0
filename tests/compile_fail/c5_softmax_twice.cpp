// C5: the network ends in softmax and the loss applies softmax again (it expects logits).
// Twin: the network ends in its logits.
// expect: nnprobe: C5: the network ends in softmax but the loss expects logits
// expect: softmax_output_fed_to_a_loss_that_expects_logits<nnp::detail::node_ref<4, nnp::detail::softmax_spec<false>>, nnp::softmax_cross_entropy_t>
#include <nnprobe/nnprobe.hpp>
#include <nnprobe/pipeline.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<3>;
#else
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<3> | nnp::softmax;
#endif

constexpr auto p = nnp::pipeline(nnp::data<nnp::features<4>, nnp::classes<3>>, net,
                                    nnp::softmax_cross_entropy, nnp::adam{.lr = 1e-2});

int main() { (void)p; }

// C5 where a loss meets a model outside a pipeline: make_model and a trainer with a loss on
// logits, the network ending in softmax (through a dropout).
// Twin: the network ends in its logits.
// expect: nnprobe: C5: the network ends in softmax but the loss expects logits
// expect: softmax_output_fed_to_a_loss_that_expects_logits<nnp::detail::node_ref<4, nnp::detail::softmax_spec<false>>, nnp::softmax_cross_entropy_t>
#include <nnprobe/trainer.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<3>;
#else
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<3> | nnp::softmax
                   | nnp::dropout(0.1);
#endif

int main() {
    auto model = nnp::make_model(net, nnp::seed{1});
    nnp::trainer train(model, nnp::softmax_cross_entropy, nnp::adam{.lr = 1e-2});
    (void)train;
}

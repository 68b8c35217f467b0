// A sequence classifier on the built-in order task (does token 1 come before token 2?):
// token ids -> embedding + sinusoidal positions -> one self-attention block (4 heads, key
// padding mask) with a residual and layer norm -> a per-position dense layer -> masked mean
// over each sample's real positions -> dense head. Batches are padded to their own longest
// sample; the mask travels with them.
#include <cstdio>
#include <nnprobe/nnprobe.hpp>

using namespace nnp;

constexpr std::size_t vocab = 32, max_len = 16;
constexpr auto classifier = token_input<max_len> | embedding<vocab, 32> | positional_encoding |
                            named<"x"> | self_attention<4> | add<"x"> | layer_norm |
                            dense<32> | relu | masked_mean_pool | dense<2>;

int main() {
    const auto train_set = order_task<vocab, max_len>(4000, seed{1}, 4);
    const auto test_set = order_task<vocab, max_len>(1000, seed{2}, 4);

    auto model = make_model(classifier, seed{3});
    optimizer_state<adam, float> opt(adam{.lr = 2e-3});
    for (std::size_t epoch = 0; epoch < 12; ++epoch)
        for (const auto& rows : sequence_batch_order(train_set.size(), 32, seed{100 + epoch})) {
            const auto batch = pad_batch<float>(train_set, rows);
            model.forward(batch.tokens, batch.mask, mode::train);
            softmax_cross_entropy(model.output(), batch.labels, model.output_grad());
            model.backward();
            opt.step(model.params());
        }

    std::vector<std::size_t> all(test_set.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    const auto test = pad_batch<float>(test_set, all);
    const double acc = accuracy(model.forward(test.tokens, test.mask, mode::eval), test.labels);
    std::printf("held-out accuracy: %.1f%%\n", 100 * acc);
    return acc >= 0.95 ? 0 : 1;
}

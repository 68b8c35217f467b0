// The digits MLP (64-128-10, relu) with mini-batches from the seeded batcher, and a
// held-out test split.
#include <cstdio>
#include <nnprobe/nnprobe.hpp>

using namespace nnp;

constexpr auto digits_mlp = input<64> | dense<128> | relu | dense<10>;

int main() {
    auto all = shuffled(load_csv<features<64>, classes<10>>(NNP_DATA_DIR "/digits.csv"), seed{1});
    std::vector<std::size_t> train_rows, test_rows;
    for (std::size_t i = 0; i < all.size(); ++i) (i < 1400 ? train_rows : test_rows).push_back(i);
    auto train_set = subset(all, train_rows), test_set = subset(all, test_rows);
    const auto scaler = standardise(train_set);  // fitted on the training rows only
    scaler.apply(test_set.x);

    auto model = make_model(digits_mlp, seed{3});
    trainer train(model, softmax_cross_entropy, adam{.lr = 1e-3});
    batcher batches(train_set, 64, seed{5});
    matrix<float> x;
    std::vector<int> y;
    for (int step = 0; step < 600; ++step) {
        batches.next(x, y);
        train.step(x, y);
    }
    const double acc = accuracy(model.forward(test_set.x, mode::eval), test_set.y);
    std::printf("digits 64-128-10: test accuracy %.1f%% on %zu held-out samples\n", 100 * acc,
                test_set.size());
    return acc >= 0.93 ? 0 : 1;
}

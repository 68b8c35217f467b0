// A small CNN on the digits as 1 x 8 x 8 images: conv, relu, pool, conv, relu, global
// average pool, dense. Trained with mini-batches on 1400 images and measured on the 397
// held out; then the standard probe suite on the same pipeline.
#include <cstdio>
#include <nnprobe/nnprobe.hpp>
#include <nnprobe/probes.hpp>

using namespace nnp;

constexpr auto digits_cnn = input<1, 8, 8> | conv2d<16, 3, same_padding> | relu | max_pool2d<2>
                          | conv2d<32, 3, same_padding> | relu | global_avg_pool | dense<10>;

int main() {
    using images = data_spec<features<1, 8, 8>, classes<10>>;
    const auto all = shuffled(load_csv<features<1, 8, 8>, classes<10>>(NNP_DATA_DIR "/digits.csv"), seed{1});
    std::vector<std::size_t> train_rows, test_rows;
    for (std::size_t i = 0; i < all.size(); ++i) (i < 1400 ? train_rows : test_rows).push_back(i);
    auto train_set = subset(all, train_rows), test_set = subset(all, test_rows);
    const auto scaler = standardise(train_set);  // fitted on the training rows only
    scaler.apply(test_set.x);

    auto model = make_model(digits_cnn, seed{3});
    trainer train(model, softmax_cross_entropy, adam{.lr = 3e-3});
    batcher batches(train_set, 64, seed{5});
    matrix<float> x;
    std::vector<int> y;
    for (int step = 0; step < 2500; ++step) {
        batches.next(x, y);
        train.step(x, y);
    }
    const double acc = accuracy(model.forward(test_set.x, mode::eval), test_set.y);
    std::printf("held-out accuracy: %.1f%%\n", 100 * acc);

    // The same network as a pipeline, through the probes.
    const auto pipe = pipeline(images{}, digits_cnn, softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    bool probes_pass = true;
    for (const auto& v : probe_suite(pipe, all)) {
        std::printf("%s %s\n", v.passed ? "pass" : "FAIL", v.explanation.c_str());
        probes_pass = probes_pass && v.passed;
    }
    return acc >= 0.97 && probes_pass ? 0 : 1;
}

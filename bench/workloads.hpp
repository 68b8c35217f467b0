#pragma once
// The benchmark workloads (bench/README.md), defined once: data, networks, seeds, optimisers and
// step counts. nnprobe_bench runs them and exports them (data and initial weights, bit for
// bit) so that the PyTorch and dlib peers train the very same model from the very same start.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nnprobe/nnprobe.hpp>

namespace bench {

using iris_ds = nnp::dataset<nnp::features<4>, nnp::classes<3>>;
using digits_ds = nnp::dataset<nnp::features<64>, nnp::classes<10>>;
using synth_ds = nnp::dataset<nnp::features<784>, nnp::classes<10>>;
using digit_images_ds = nnp::dataset<nnp::features<1, 8, 8>, nnp::classes<10>>;
using synth_images_ds = nnp::dataset<nnp::features<3, 32, 32>, nnp::classes<10>>;

inline constexpr auto w1_net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<3>;
inline constexpr auto w2_net = nnp::input<64> | nnp::dense<128> | nnp::relu | nnp::dense<10>;
inline constexpr auto w3_net = nnp::input<784> | nnp::dense<256> | nnp::relu | nnp::dense<10>;
// The CNNs: conv 3x3 (same padding in W5, none in W6), relu, max pool 2, conv 3x3, relu,
// global average pool, dense.
inline constexpr auto w5_net = nnp::input<1, 8, 8> | nnp::conv2d<8, 3, nnp::same_padding> | nnp::relu |
                               nnp::max_pool2d<2> | nnp::conv2d<16, 3, nnp::same_padding> | nnp::relu |
                               nnp::global_avg_pool | nnp::dense<10>;
inline constexpr auto w6_net = nnp::input<3, 32, 32> | nnp::conv2d<32, 3> | nnp::relu | nnp::max_pool2d<2> |
                               nnp::conv2d<64, 3> | nnp::relu | nnp::global_avg_pool | nnp::dense<10>;
// W7: the sequence classifier of examples/sequence_classifier.cpp: token ids -> embedding +
// sinusoidal positions -> self-attention (4 heads, key padding mask) + residual -> layer norm
// -> dense 32 + relu per position -> masked mean over the real positions -> dense 2.
inline constexpr std::size_t w7_vocab = 32, w7_max_len = 16, w7_width = 32, w7_heads = 4;
inline constexpr std::size_t w7_min_len = 4, w7_samples = 512, w7_batch = 32;
inline constexpr auto w7_net = nnp::token_input<w7_max_len> | nnp::embedding<w7_vocab, w7_width> |
                               nnp::positional_encoding | nnp::named<"x"> | nnp::self_attention<w7_heads> |
                               nnp::add<"x"> | nnp::layer_norm | nnp::dense<32> | nnp::relu |
                               nnp::masked_mean_pool | nnp::dense<2>;
using w7_ds = nnp::token_dataset<w7_vocab, w7_max_len, 2>;

// What every implementation must do for one workload.
struct workload {
    const char* id;
    std::size_t steps;        // timed steps per run (W4: repetitions of the whole probe)
    std::size_t smoke_steps;  // steps (W4: repetitions) in --smoke mode
    std::uint64_t seed;       // model seed
    const char* opt;          // "adam" or "sgd"
    double lr;
};

// W4 trains the W1 model for 20 recorded steps (seed 7) and then runs the batch-invariance
// probe with its defaults: a stratified 24-sample subset, run seed 1, 3 warm-up steps, each
// sample alone and the batch shuffled.
inline constexpr workload workloads[] = {
    {"W1", 2000, 20, 7, "adam", 1e-2},
    {"W2", 500, 20, 3, "adam", 1e-3},
    {"W3", 200, 10, 11, "sgd", 1e-2},
    {"W4", 40, 1, 7, "adam", 1e-2},
    {"W5", 500, 20, 3, "adam", 1e-3},
    {"W6", 40, 3, 13, "sgd", 1e-2},
    {"W7", 200, 20, 3, "adam", 2e-3},
};
inline constexpr std::size_t w4_train_steps = 20;

// W1: 32 Iris samples spread over the three classes (rows k*150/32), standardised on
// themselves.
inline iris_ds w1_data(const std::string& data_dir) {
    const auto all = nnp::load_csv<nnp::features<4>, nnp::classes<3>>(data_dir + "/iris.csv");
    std::vector<std::size_t> rows;
    for (std::size_t k = 0; k < 32; ++k) rows.push_back(k * all.size() / 32);
    auto d = nnp::subset(all, rows);
    nnp::standardise(d);
    return d;
}

// W2: the first 64 digits, standardised on themselves.
inline digits_ds w2_data(const std::string& data_dir) {
    auto d = nnp::take(nnp::load_csv<nnp::features<64>, nnp::classes<10>>(data_dir + "/digits.csv"), 64);
    nnp::standardise(d);
    return d;
}

// n samples of f features, 10 classes (label i % 10), each a class centroid plus unit noise,
// all drawn from a seeded nnp::rng (same bits everywhere).
template <class DS>
DS class_centroids(std::size_t n, std::size_t f, std::uint64_t s) {
    constexpr std::size_t c = 10;
    nnp::rng r(nnp::seed{s});
    std::vector<float> mu(c * f);
    for (auto& v : mu) v = static_cast<float>(0.5 * r.normal());
    DS d;
    d.x = nnp::matrix<float>(std::array<std::size_t, 2>{n, f});
    d.y.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        d.y[i] = static_cast<int>(i % c);
        for (std::size_t j = 0; j < f; ++j) d.x(i, j) = mu[(i % c) * f + j] + static_cast<float>(r.normal());
    }
    return d;
}

// W3: there is no MNIST here: 64 synthetic 784-feature samples.
inline synth_ds w3_data() { return class_centroids<synth_ds>(64, 784, 2024); }

// W5: the first 64 digits as 1 x 8 x 8 images, standardised on themselves.
inline digit_images_ds w5_data(const std::string& data_dir) {
    auto d = nnp::take(nnp::load_csv<nnp::features<1, 8, 8>, nnp::classes<10>>(data_dir + "/digits.csv"), 64);
    nnp::standardise(d);
    return d;
}

// W6: 32 synthetic 3 x 32 x 32 images.
inline synth_images_ds w6_data() { return class_centroids<synth_images_ds>(32, 3 * 32 * 32, 2025); }

// W7: 512 samples of the built-in order task (lengths 4 to 16), cut into 16 seeded batches of
// 32, each padded to its own longest sample; step k trains on batch k mod 16.
inline w7_ds w7_data() { return nnp::order_task<w7_vocab, w7_max_len>(w7_samples, nnp::seed{2027}, w7_min_len); }
inline std::vector<nnp::sequence_batch<float>> w7_batches(const w7_ds& d) {
    std::vector<nnp::sequence_batch<float>> out;
    for (const auto& rows : nnp::sequence_batch_order(d.size(), w7_batch, nnp::seed{2028}))
        out.push_back(nnp::pad_batch<float>(d, rows));
    return out;
}

}  // namespace bench

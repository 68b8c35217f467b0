// Shared by the probe test translation units: the healthy models and pipelines, the data,
// and the helpers that state what a red check must say. Two translation units so that the
// two cores compile them side by side.
#pragma once

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include <doctest/doctest.h>
#include <nnprobe/probes/doctest.hpp>
#include <nnprobe/probes.hpp>
#include <nnprobe/probes/injected_bugs.hpp>

#include "legitimate_pipelines.hpp"

// A user's optimiser that ignores the statistics pointer it is handed (plain SGD).
struct user_sgd {
    double lr = 0.05;
};
template <class T>
class nnp::optimizer_state<user_sgd, T> {
public:
    explicit optimizer_state(user_sgd o = {}) : o_(o) {}
    void step(const std::vector<nnp::param_ref<T>>& params, std::vector<nnp::tensor_update>* = nullptr) {
        for (const auto& p : params)
            if (p.trainable)
                for (std::size_t i = 0; i < p.size; ++i) p.value[i] -= static_cast<T>(o_.lr) * p.grad[i];
    }

private:
    user_sgd o_;
};

using namespace nnp;

namespace {

// ---- the two healthy models -------------------------------------------------------------
constexpr auto iris_mlp = input<4> | dense<16> | relu | dense<3>;
//  node:  0 input, 1 dense<16>, 2 relu, 3 dense<3>
constexpr auto digits_residual = input<64> | dense<64> | relu | named<"trunk"> | dense<64> | relu |
                                 dense<64> | add<"trunk"> | relu | dense<10>;
//  node:  0 input, 1 dense<64>, 2 relu "trunk", 3 dense<64>, 4 relu, 5 dense<64>, 6 add,
//         7 relu, 8 dense<10>

constexpr auto digits_cnn = input<1, 8, 8> | conv2d<8, 3, same_padding> | batch_norm | relu | max_pool2d<2> |
                           conv2d<16, 3, same_padding> | relu | global_avg_pool | dense<10>;
//  node:  0 input, 1 conv2d, 2 batch_norm, 3 relu, 4 max_pool2d, 5 conv2d, 6 relu, 7 global_avg_pool,
//         8 dense<10>

using iris_data = data_spec<features<4>, classes<3>>;
using image_data = data_spec<features<1, 8, 8>, classes<10>>;
using digits_data = data_spec<features<64>, classes<10>>;

const dataset<features<4>, classes<3>>& iris() {
    static const auto d = load_csv<features<4>, classes<3>>(NNP_SOURCE_DIR "/examples/data/iris.csv");
    return d;
}
const dataset<features<64>, classes<10>>& digits() {
    static const auto d = load_csv<features<64>, classes<10>>(NNP_SOURCE_DIR "/examples/data/digits.csv");
    return d;
}

[[maybe_unused]] const dataset<features<1, 8, 8>, classes<10>>& digit_images() {
    static const auto d = load_csv<features<1, 8, 8>, classes<10>>(NNP_SOURCE_DIR "/examples/data/digits.csv");
    return d;
}

const auto iris_pipe = pipeline(iris_data{}, iris_mlp, softmax_cross_entropy, adam{.lr = 1e-2})
                           .transform(standardised);
const auto digits_pipe =
    pipeline(digits_data{}, digits_residual, softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);

// The CNN pipeline with another network (same data, loss, optimiser and transform).
template <class G>
auto cnn_pipe(const G& net) {
    return pipeline(image_data{}, net, softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
}
const auto digits_cnn_pipe = cnn_pipe(digits_cnn);

// ---- bugs: nnp::bugs holds them, written as a user would write them ----------------------
using bugs::batch_centre;
using bugs::misaligned_batcher;
using bugs::wrong_axis_mask;
using bugs::zeroing_mask;

// A batcher that rescales the targets it was given (a leftover from another loss).
struct rescaling_batcher {
    template <class DS>
    void operator()(const DS& ds, std::size_t step, seed s, batch_of<DS>& out) const {
        full_batch(ds, step, s, out);
        for (auto& y : out.y) y = 4 * y - 1;  // BUG
    }
};

// The check expected to fire, and what its explanation must say.
template <class Check>
void expect_red(Check check, const char* name, std::initializer_list<const char*> says) {
    const verdict v = check();
    CHECK_MESSAGE(!v.passed, v.explanation);
    CHECK(v.check == name);
    for (const char* s : says) CHECK_MESSAGE(v.explanation.find(s) != std::string::npos, v.explanation);
}

}  // namespace

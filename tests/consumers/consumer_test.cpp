// A user's doctest program outside the nnprobe tree: test cases only, no main(). It links
// nnprobe's prebuilt doctest main (nnprobe-doctest-main, nnprobe::doctest_main), so the build
// compiles nothing but this file.
#include <doctest/doctest.h>

#include <nnprobe/nnprobe.hpp>

constexpr auto net = nnp::input<2> | nnp::dense<8> | nnp::relu | nnp::dense<2>;

TEST_CASE("consumer/xor is learnt") {
    nnp::matrix<float> x({4, 2});
    const float xs[] = {0, 0, 0, 1, 1, 0, 1, 1};
    std::copy(std::begin(xs), std::end(xs), x.begin());
    const std::vector<int> y{0, 1, 1, 0};
    auto model = nnp::make_model(net, nnp::seed{3});
    nnp::trainer train(model, nnp::softmax_cross_entropy, nnp::adam{.lr = 5e-2});
    float loss = 0;
    for (int step = 0; step < 200; ++step) loss = train.step(x, y);
    CHECK(loss < 0.1f);
}

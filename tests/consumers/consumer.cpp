// A program outside the nnprobe tree, as a user writes it: found through meson, pkg-config or
// CMake. It prints the version, and a loss that depends on -ffp-contract=off reaching it.
#include <cstdio>

#include <nnprobe/nnprobe.hpp>

constexpr auto net = nnp::input<2> | nnp::dense<8> | nnp::relu | nnp::dense<2>;

int main() {
    nnp::matrix<float> x({4, 2});
    std::vector<int> y{0, 1, 1, 0};
    const float xs[] = {0, 0, 0, 1, 1, 0, 1, 1};
    std::copy(std::begin(xs), std::end(xs), x.begin());
    auto model = nnp::make_model(net, nnp::seed{3});
    nnp::trainer train(model, nnp::softmax_cross_entropy, nnp::adam{.lr = 5e-2});
    float loss = 0;
    for (int step = 0; step < 200; ++step) loss = train.step(x, y);
    std::printf("nnprobe %s: xor loss after 200 steps %.9g\n", nnp::version, loss);
    return loss < 0.1f ? 0 : 1;
}

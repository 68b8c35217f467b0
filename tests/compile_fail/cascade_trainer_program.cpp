// One error per mistake: the README's Iris program (make_model, a trainer, forward,
// accuracy) with the relu missing. The model and the trainer absorb what follows.
// Twin: the relu is there.
// max-errors: 1
// expect: nnprobe: C2: two affine layers with no nonlinearity between them
#include <cstdio>

#include <nnprobe/nnprobe.hpp>

using namespace nnp;

#ifdef NNP_TWIN
constexpr auto iris_mlp = input<4> | dense<16> | relu | dense<3>;
#else
constexpr auto iris_mlp = input<4> | dense<16> | dense<3>;
#endif

int main() {
    auto data = load_csv<features<4>, classes<3>>("iris.csv");
    standardise(data);

    auto model = make_model(iris_mlp, seed{7});
    trainer train(model, softmax_cross_entropy, adam{.lr = 1e-2});
    for (int step = 0; step < 200; ++step) train.step(data.x, data.y);

    const double acc = accuracy(model.forward(data.x, mode::eval), data.y);
    std::printf("%s: training accuracy %.1f%%\n", model.node(1).label().c_str(), 100 * acc);
    model.backward();
    return model.params().empty() ? 1 : 0;
}

// The Iris MLP (4-16-3, relu), trained full-batch with Adam from a fixed seed.
#include <cstdio>
#include <nnprobe/nnprobe.hpp>

using namespace nnp;

constexpr auto iris_mlp = input<4> | dense<16> | relu | dense<3>;

int main() {
    auto data = load_csv<features<4>, classes<3>>(NNP_DATA_DIR "/iris.csv");
    standardise(data);

    auto model = make_model(iris_mlp, seed{7});
    trainer train(model, softmax_cross_entropy, adam{.lr = 1e-2});
    for (int step = 0; step < 200; ++step) train.step(data.x, data.y);

    const double acc = accuracy(model.forward(data.x, mode::eval), data.y);
    std::printf("iris 4-16-3: training accuracy %.1f%%\n", 100 * acc);
    return acc >= 0.97 ? 0 : 1;
}
// Output: iris 4-16-3: training accuracy 97.3%

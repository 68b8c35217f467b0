// nnprobe-demo: the main job. Trains the Iris MLP declared in the DSL from a fixed seed and
// prints its loss curve and final accuracy.
#include <cstdio>
#include <nnprobe/nnprobe.hpp>

using namespace nnp;

constexpr auto iris_mlp = input<4> | dense<16> | relu | dense<3>;

int main(int argc, char** argv) {
    const char* path = argc > 1 ? argv[1] : NNP_DATA_DIR "/iris.csv";
    try {
        auto data = load_csv<features<4>, classes<3>>(path);
        standardise(data);
        auto model = make_model(iris_mlp, seed{7});
        std::printf("network: ");
        for (const auto& n : model.nodes()) std::printf("%s%s", n.index ? " | " : "", n.layer.c_str());
        std::printf("\ndata: %s, %zu samples\n", path, data.size());
        trainer train(model, softmax_cross_entropy, adam{.lr = 1e-2});
        for (int step = 0; step <= 200; ++step) {
            const float loss = train.step(data.x, data.y);
            if (step % 25 == 0) std::printf("step %3d  loss %.4f\n", step, loss);
        }
        const double acc = accuracy(model.forward(data.x, mode::eval), data.y);
        std::printf("training accuracy: %.1f%%\n", 100 * acc);
        return acc >= 0.97 ? 0 : 1;
    } catch (const nnp::error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 2;
    }
}

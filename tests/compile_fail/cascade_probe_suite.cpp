// One error per mistake: the README's probe-suite program with the relu missing. C2 fires at
// the `|`; the pipeline, its transform, the generated test cases, the other probes, a model
// and a trainer built from it all absorb the failed check silently.
// Twin: the relu is there.
// max-errors: 1
// expect: nnprobe: C2: two affine layers with no nonlinearity between them
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <nnprobe/probes.hpp>
#include <nnprobe/probes/doctest.hpp>

using namespace nnp;

#ifdef NNP_TWIN
constexpr auto iris_mlp = input<4> | dense<16> | relu | dense<3>;
#else
constexpr auto iris_mlp = input<4> | dense<16> | dense<3>;
#endif

const auto iris_pipe = pipeline(data<features<4>, classes<3>>, iris_mlp, softmax_cross_entropy,
                                adam{.lr = 1e-2}).transform(standardised);

const auto& iris() {
    static const auto d = load_csv<features<4>, classes<3>>("iris.csv");
    return d;
}

NNP_PROBE_SUITE("iris-mlp", iris_pipe, iris())

TEST_CASE("iris-mlp on seeds 1-3") {
    for (std::uint64_t s = 1; s <= 3; ++s) NNP_CHECK_PROBES(iris_pipe, iris(), probe_options{.run_seed = seed{s}});
}

TEST_CASE("iris-mlp by hand") {
    const auto other = iris_pipe.batches(shuffled_batches{.size = 8}).optimise_with(sgd{.lr = 0.1});
    NNP_CHECK(overfits<double>(other, iris()));
    const auto run = mini_run(other, iris());
    CHECK(run.loss.size() == 10);
    const auto section = report_for("iris", other, iris());
    CHECK(section.title == "iris");
    auto model = make_model(iris_pipe.net, seed{7});
    trainer train(model, softmax_cross_entropy, adam{.lr = 1e-2});
    train.step(iris().x, iris().y);
}

// The standard probe suite as doctest test cases, from one declaration: this file, linked with
// nnprobe's prebuilt doctest main (nnprobe-doctest-main), is a complete test program. Run it
// with doctest's usual options, e.g. `-ts=iris-mlp`, `-tc='*/overfits'`, `-r=junit`;
// NNP_VERDICTS_JSON=verdicts.json also writes every verdict.
#include <nnprobe/probes.hpp>
#include <nnprobe/probes/doctest.hpp>

using namespace nnp;

constexpr auto iris_mlp = input<4> | dense<16> | relu | dense<3>;

const auto iris_pipe = pipeline(data<features<4>, classes<3>>, iris_mlp, softmax_cross_entropy,
                                adam{.lr = 1e-2}).transform(standardised);

const auto& iris() {
    static const auto d = load_csv<features<4>, classes<3>>(NNP_DATA_DIR "/iris.csv");
    return d;
}

// One test case per check: iris-mlp/overfits, iris-mlp/gradients_flow,
// iris-mlp/all_layers_change, iris-mlp/batch_invariance, iris-mlp/init_sane,
// iris-mlp/determinism, iris-mlp/cross_sample_independence, iris-mlp/finite,
// iris-mlp/gradient_check, iris-mlp/unit_health.
NNP_PROBE_SUITE("iris-mlp", iris_pipe, iris())

// Two classes and one logit: binary_cross_entropy takes classes<2> labels (0 or 1) and a
// network with one output. Is an iris flower a versicolor?
constexpr auto versicolor_mlp = input<4> | dense<8> | relu | dense<1>;

const auto versicolor_pipe = pipeline(data<features<4>, classes<2>>, versicolor_mlp, binary_cross_entropy,
                                      adam{.lr = 1e-2}).transform(standardised);

const auto& versicolor_or_not() {
    static const auto d = [] {
        dataset<features<4>, classes<2>> d2{iris().x, {}};
        for (int label : iris().y) d2.y.push_back(label == 1 ? 1 : 0);
        return d2;
    }();
    return d;
}

NNP_PROBE_SUITE("versicolor-binary", versicolor_pipe, versicolor_or_not())

// Or inside one test case, on other seeds:
TEST_CASE("iris-mlp on seeds 1-3") {
    for (std::uint64_t s = 1; s <= 3; ++s) NNP_CHECK_PROBES(iris_pipe, iris(), probe_options{.run_seed = seed{s}});
}

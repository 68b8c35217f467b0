// One translation unit holding one model and the full probe suite, as a user's test file
// would: the Iris MLP and the four checks as doctest test cases. The benchmarks time the
// process that runs it ("suite_process_ms") and the compilation of this file alone
// ("model_tu_compile_s"; with a precompiled header of its two includes, "model_tu_compile_pch_s").
#include <nnprobe/probes/doctest.hpp>
#include <nnprobe/probes.hpp>

#ifndef NNP_DATA_DIR
#define NNP_DATA_DIR "examples/data"
#endif

namespace {
constexpr auto iris_mlp = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<3>;
const auto iris_pipe = nnp::pipeline(nnp::data<nnp::features<4>, nnp::classes<3>>, iris_mlp,
                                     nnp::softmax_cross_entropy, nnp::adam{.lr = 1e-2})
                           .transform(nnp::standardised);
const nnp::dataset<nnp::features<4>, nnp::classes<3>>& iris() {
    static const auto d = nnp::load_csv<nnp::features<4>, nnp::classes<3>>(NNP_DATA_DIR "/iris.csv");
    return d;
}
}  // namespace

NNP_PROBE_SUITE("iris-mlp", iris_pipe, iris())

// The probes on healthy pipelines (no false alarms, for many seeds), the faults that once
// survived them, and the doctest glue. The injected bug classes are in test_probe_bugs.cpp.
#include "probe_fixtures.hpp"

namespace {
// A fault that shows on some seeds only: on every third run seed the batcher shuffles the
// inputs apart from their labels.
struct misaligned_on_every_third_seed {
    template <class DS>
    void operator()(const DS& ds, std::size_t step, seed s, batch_of<DS>& out) const {
        if (s.value % 3 == 0) misaligned_batcher{}(ds, step, s, out);
        else full_batch(ds, step, s, out);
    }
};
const auto every_third_seed_pipe = iris_pipe.batches(misaligned_on_every_third_seed{});
}  // namespace

TEST_SUITE("probes") {

TEST_CASE("healthy Iris MLP: every check passes for 20 seeds") {
    for (std::uint64_t s = 1; s <= 20; ++s) {
        CAPTURE(s);
        NNP_CHECK_PROBES(iris_pipe, iris(), probe_options{.run_seed = seed{s}});
    }
}

TEST_CASE("healthy digits residual MLP: every check passes for 20 seeds") {
    for (std::uint64_t s = 1; s <= 20; ++s) {
        CAPTURE(s);
        NNP_CHECK_PROBES(digits_pipe, digits(), probe_options{.run_seed = seed{s}});
    }
}

TEST_CASE("healthy variants pass too: mini-batches, batch norm, dropout, double") {
    const auto minibatch = iris_pipe.batches(shuffled_batches{.size = 8});
    const auto bn = pipeline(iris_data{}, input<4> | dense<16> | batch_norm | relu | dropout(0.1) | dense<3>,
                             softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    for (std::uint64_t s = 1; s <= 5; ++s) {
        CAPTURE(s);
        const probe_options o{.run_seed = seed{s}};
        NNP_CHECK_PROBES(minibatch, iris(), o);
        NNP_CHECK_PROBES(bn, iris(), o);
        for (const auto& v : probe_suite<double>(iris_pipe, iris(), o)) NNP_CHECK(v);
    }
}

const legit::data_sets& legit_data() {
    static const legit::data_sets d = legit::make_data(iris());
    return d;
}

TEST_CASE("legitimate configurations (pairwise design): every check passes for 20 seeds") {
    legit::for_each_config(legit_data(), [](std::size_t, const std::string& name, const auto& pipe, const auto& data) {
        for (std::uint64_t s = 1; s <= 20; ++s) {
            CAPTURE(name);
            CAPTURE(s);
            NNP_CHECK_PROBES(pipe, data, probe_options{.run_seed = seed{s}});
        }
    });
}

TEST_CASE("a dense bias feeding batch_norm is redundant: left out with a note, under SGD and Adam alike") {
    const auto net = input<4> | dense<16> | batch_norm | relu | dense<3>;
    const auto with_sgd = pipeline(iris_data{}, net, softmax_cross_entropy, sgd{.lr = 0.1, .momentum = 0.9})
                              .transform(standardised);
    const auto with_adam = with_sgd.optimise_with(adam{.lr = 1e-2});
    for (std::uint64_t s = 1; s <= 5; ++s) {
        CAPTURE(s);
        const probe_options o{.run_seed = seed{s}};
        for (const verdict& v : {all_layers_change(with_sgd, iris(), o), all_layers_change(with_adam, iris(), o),
                                 gradients_flow(with_sgd, iris(), o), gradients_flow(with_adam, iris(), o)}) {
            CHECK_MESSAGE(v.passed, v.explanation);
            REQUIRE(v.notes.size() == 1);
            CHECK(v.notes[0] == "node 1 dense<16> bias is redundant: batch_norm (node 2 batch_norm) removes this "
                                "bias; use dense_no_bias<16>");
            CHECK(v.explanation.find("note: node 1 dense<16> bias is redundant") != std::string::npos);
        }
    }
    // without the bias there is nothing to note
    const auto no_bias = pipeline(iris_data{}, input<4> | dense_no_bias<16> | batch_norm | relu | dense<3>,
                                  softmax_cross_entropy, sgd{.lr = 0.1, .momentum = 0.9}).transform(standardised);
    const verdict v = all_layers_change(no_bias, iris());
    CHECK_MESSAGE(v.passed, v.explanation);
    CHECK(v.notes.empty());
    // a bias that also feeds something else is not redundant
    CHECK(redundant_tensors<decltype(input<4> | dense<16> | named<"h"> | batch_norm | relu | add<"h"> | dense<3>)>(
              make_model(input<4> | dense<16> | named<"h"> | batch_norm | relu | add<"h"> | dense<3>).nodes())
              .empty());
}

TEST_CASE("per-sample updates: budgets in epochs, the trend on epoch means") {
    const auto per_sample = iris_pipe.batches(shuffled_batches{.size = 1});
    for (std::uint64_t s = 1; s <= 5; ++s) {
        CAPTURE(s);
        const verdict v = gradients_flow(per_sample, iris(), probe_options{.run_seed = seed{s}});
        CHECK_MESSAGE(v.passed, v.explanation);
        CHECK(v.explanation.find("epoch means of 24 steps") != std::string::npos);
        NNP_CHECK(overfits(per_sample, iris(), probe_options{.run_seed = seed{s}}));
    }
    // gradient ascent is still caught on epoch means
    expect_red([&] { return gradients_flow(per_sample.optimise_with(sgd{.lr = -0.01}), iris()); }, "gradients_flow",
               {"does not decrease over 10 epochs"});
}

TEST_CASE("surviving fault: Adam with a learning rate 100x too high") {
    expect_red([&] { return all_layers_change(iris_pipe.optimise_with(adam{.lr = 1.0}), iris()); },
               "all_layers_change", {"learning rate too high", "median |dW|/|W|"});
    expect_red([&] { return all_layers_change(digits_pipe.optimise_with(adam{.lr = 1.0}), digits()); },
               "all_layers_change", {"learning rate too high"});
    for (std::uint64_t s = 1; s <= 5; ++s) {
        CAPTURE(s);
        const verdict v = all_layers_change(iris_pipe.optimise_with(adam{.lr = 1.0}), iris(), probe_options{.run_seed = seed{s}});
        CHECK_MESSAGE(!v.passed, v.explanation);
        CHECK(v.hint == "learning rate too high: each step rewrites a large part of the weights");
    }
}

TEST_CASE("surviving fault: binary cross-entropy on targets outside [0, 1]") {
    const auto bce_regression = pipeline(data<features<4>, targets<1>>, input<4> | dense<16> | relu | dense<1>,
                                         binary_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    const auto& reg = legit_data().regression;
    std::size_t first = 0;
    while (reg.y(first, 0) >= 0 && reg.y(first, 0) <= 1) ++first;
    const std::string says = fmt::format("binary_cross_entropy needs targets in [0, 1]; sample {} (row {} of the "
                                         "data set) has target", first, first);
    CHECK_THROWS_WITH_AS(overfits(bce_regression, reg), doctest::Contains(says.c_str()), nnp::data_error);
    CHECK_THROWS_WITH_AS(init_sane(bce_regression, reg), doctest::Contains(says.c_str()), nnp::data_error);
    // Targets squashed into [0, 1] are fine; a batcher that rescales them afterwards makes the
    // loss negative, which no cross-entropy can be: overfits fails instead of passing.
    auto squashed = reg;
    for (auto& y : squashed.y) y = 1.0f / (1.0f + std::exp(-y));
    NNP_CHECK(overfits(bce_regression, squashed));
    expect_red([&] { return overfits(bce_regression.batches(rescaling_batcher{}), squashed); }, "overfits",
               {"below 0, the least value binary_cross_entropy can take", "targets outside the loss's range"});
}

TEST_CASE("surviving fault: weights initialised 100x too large in a residual network") {
    constexpr auto big = init::normal(100 * 0.177);  // He's std for fan-in 64 is 0.177
    const auto huge = pipeline(digits_data{},
                               input<64> | dense<64>.init(big) | relu | named<"trunk"> | dense<64>.init(big) | relu |
                                   dense<64>.init(big) | add<"trunk"> | relu | dense<10>.init(big),
                               softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    for (std::uint64_t s = 1; s <= 5; ++s) {
        CAPTURE(s);
        expect_red([&] { return init_sane(huge, digits(), probe_options{.run_seed = seed{s}}); }, "init_sane",
                   {"loss at initialisation", "too large a scale"});
    }
}

TEST_CASE("surviving fault: constant initialisation of a tanh MLP, and of a layer inside a residual block") {
    const auto constant = pipeline(iris_data{}, input<4> | dense<16>.init(init::constant(0.1)) | tanh_act |
                                                    dense<3>.init(init::constant(0.1)),
                                   softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    for (std::uint64_t s = 1; s <= 5; ++s) {
        CAPTURE(s);
        expect_red([&] { return init_sane(constant, iris(), probe_options{.run_seed = seed{s}}); }, "init_sane",
                   {"node 1 dense<16>: units 0 and 1 compute the same function", "symmetric initialisation"});
    }
    // the digits residual MLP with one constant layer inside its residual block
    const auto digits_constant =
        pipeline(digits_data{}, input<64> | dense<64> | relu | named<"trunk"> | dense<64>.init(init::constant(0.02)) |
                                    relu | dense<64> | add<"trunk"> | relu | dense<10>,
                 softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    for (std::uint64_t s = 1; s <= 3; ++s) {
        CAPTURE(s);
        expect_red([&] { return init_sane(digits_constant, digits(), probe_options{.run_seed = seed{s}}); },
                   "init_sane", {"node 3 dense<64>: units", "compute the same function", "symmetric initialisation"});
    }
    // and the healthy models pass it (the matrix above covers the rest)
    NNP_CHECK(init_sane(iris_pipe, iris()));
    NNP_CHECK(init_sane(digits_pipe, digits()));
}

TEST_CASE("a user optimiser that ignores the statistics pointer: the probes measure the step themselves") {
    const auto user = iris_pipe.optimise_with(user_sgd{.lr = 0.1});
    for (const verdict& v : probe_suite(user, iris())) CHECK_MESSAGE(v.passed, v.explanation);
    const auto rec = mini_run(user, stratified(iris(), 4, seed{1}),
                              run_options{.run_seed = seed{1}, .steps = 3, .record = true, .snapshot_steps = {}});
    REQUIRE(rec.nodes.tensors().size() == 4);
    for (const auto& t : rec.nodes.tensors()) {
        REQUIRE(t.delta_norm.size() == 3);
        CHECK(t.delta_norm[1] > 0);
        CHECK(t.grad_norm[1] > 0);
        CHECK(t.delta_norm[1] == doctest::Approx(0.1 * t.grad_norm[1]).epsilon(1e-4));  // plain SGD: |dW| = lr |g|
    }
    // and a frozen node still reads as unchanged
    expect_red([&] { return all_layers_change(pipeline(iris_data{}, input<4> | dense<16> | relu | dense<3>.frozen(),
                                                       softmax_cross_entropy, user_sgd{}).transform(standardised),
                                              iris()); },
               "all_layers_change", {"node 3 dense<3> weight", "frozen"});
}

TEST_CASE("seed sweeps: the pass rate, the failing seeds and the command that replays one") {
    const auto check = [](const auto& p, const auto& d, const auto& o) { return overfits(p, d, o); };
    const auto sweeps = seed_sweep(check, every_third_seed_pipe, iris(), 9);
    REQUIRE(sweeps.size() == 1);
    const sweep_result& r = sweeps[0];
    CHECK(r.check == "overfits");
    CHECK(r.seeds == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9});
    CHECK(r.failing == std::vector<std::uint64_t>{3, 6, 9});
    CHECK(r.pass_rate() == doctest::Approx(6.0 / 9));
    CHECK(!r.passed());
    CHECK(r.summary() == "overfits: 6 of 9 seeds pass (67%); failing seeds: 3, 6, 9");
    CHECK(r.replay("./tests", "iris/overfits") == "NNP_SEED=3 ./tests -tc='iris/overfits'");
    REQUIRE(r.failures.size() == 3);
    for (const verdict& v : r.failures) CHECK(v.stage == "the batcher `misaligned_on_every_third_seed`");
    // from another first seed
    const auto later = seed_sweep(check, every_third_seed_pipe, iris(), 3, probe_options{.run_seed = seed{5}});
    CHECK(later[0].failing == std::vector<std::uint64_t>{6});
    // the whole suite: one result per check, and the healthy pipeline passes every seed
    const auto suite = suite_sweep(every_third_seed_pipe, iris(), 4);
    REQUIRE(suite.size() == probe_suite(iris_pipe, iris()).size());
    CHECK(suite[0].failing == std::vector<std::uint64_t>{3});
    for (const auto& h : suite_sweep(iris_pipe, iris(), 4)) {
        CHECK_MESSAGE(h.passed(), h.summary());
        CHECK(h.pass_rate() == 1.0);
        CHECK(h.replay("./tests", "x").empty());
    }
}

TEST_CASE("budgets of zero are a clear error, never a pass that checked nothing") {
    CHECK_THROWS_WITH_AS(overfits(iris_pipe, iris(), probe_options{.overfit_epochs = 0}),
                         "nnprobe: probe_options.overfit_epochs is 0: overfits would check nothing", nnp::error);
    CHECK_THROWS_WITH_AS(all_layers_change(iris_pipe, iris(), probe_options{.change_steps = 0}),
                         "nnprobe: probe_options.change_steps is 0: all_layers_change would check nothing", nnp::error);
    CHECK_THROWS_WITH_AS(gradients_flow(iris_pipe, iris(), probe_options{.flow_epochs = 0}),
                         "nnprobe: probe_options.flow_epochs is 0: gradients_flow would check nothing", nnp::error);
}

}  // TEST_SUITE

// One line, the standard suite: five test cases named "iris-mlp/overfits", ...
NNP_PROBE_SUITE("iris-mlp", iris_pipe, iris())

// NNP_REQUIRE ends its test case on a failing verdict, as REQUIRE does: exactly one failure is
// expected, and the FAIL after it would be a second.
TEST_CASE("NNP_REQUIRE on a failing verdict ends its test case" * doctest::expected_failures(1)) {
    verdict ok;
    ok.passed = true;
    ok.explanation = "overfits: fine";
    bool went_on = false;
    NNP_REQUIRE(ok);
    went_on = true;
    CHECK(went_on);
    verdict stuck;
    stuck.explanation = "overfits: stuck";
    NNP_REQUIRE(stuck);
    FAIL("NNP_REQUIRE on a failing verdict let its test case go on");
}

// ---- the doctest glue: what a user's test run prints and writes ---------------------------
// These cases fail on purpose (should_fail): tests/check_doctest_output.py runs them with the
// console and JUnit reporters and NNP_VERDICTS_JSON set, and reads what they print and write.
TEST_SUITE("doctest glue") {

TEST_CASE("glue: a failing probe reads like a failing CHECK on the verdict" * doctest::should_fail()) {
    NNP_CHECK(overfits(iris_pipe.batches(misaligned_batcher{}), iris()));
}

TEST_CASE("glue: a passing probe") { NNP_CHECK(all_layers_change(iris_pipe, iris())); }

TEST_CASE("glue: the verdict as doctest prints it, and as JSON") {
    verdict v;
    v.check = "overfits";
    v.explanation = "overfits: stuck";
    CHECK(doctest::toString(v) == doctest::String("FAIL overfits: stuck"));
    v.passed = true;
    CHECK(doctest::toString(v) == doctest::String("PASS overfits: stuck"));
    v.series = {1.0, std::nan(""), INFINITY};
    v.node = 3;
    const std::string j = json_verdicts({{"case/x", v}});
    CHECK(j.find("\"test_case\": \"case/x\"") != std::string::npos);
    CHECK(j.find("\"node\": 3") != std::string::npos);
    CHECK(j.find("\"step\": null") != std::string::npos);
    CHECK(j.find("\"nan\"") != std::string::npos);  // JSON has no NaN: written as a string
    CHECK(j.find("\"inf\"") != std::string::npos);
    CHECK(j.find(std::string("\"nnprobe\": \"") + nnp::version + "\"") != std::string::npos);
}

}  // TEST_SUITE("doctest glue")

// A generated suite whose overfits fails on every third seed: check_doctest_output.py runs it
// with NNP_SEED and NNP_SEEDS (the unit run leaves out every "doctest glue*" suite).
NNP_PROBE_SUITE("doctest glue: every third seed", every_third_seed_pipe, iris())

// The probes, proven the other way: each bug class of docs/design.md, injected through the
// public API as a user would write it, turns the expected check red with a message naming the
// right node or stage. Also: the digits CNN, the recorders and the HTML report.
#include "probe_fixtures.hpp"

#include <cstring>
#include <type_traits>

namespace {
// A user's own batcher that is fine: every sample in order, as full_batch does.
struct users_full_batch {
    template <class DS>
    void operator()(const DS& ds, std::size_t step, seed s, batch_of<DS>& out) const {
        full_batch(ds, step, s, out);
    }
};
}  // namespace

TEST_SUITE("probes") {

TEST_CASE("healthy digits CNN: every check of the suite and the two image checks pass for 20 seeds") {
    for (std::uint64_t s = 1; s <= 20; ++s) {
        CAPTURE(s);
        const probe_options o{.run_seed = seed{s}};
        NNP_CHECK_PROBES(digits_cnn_pipe, digit_images(), o);
        NNP_CHECK(positions_reach_output(digits_cnn_pipe, digit_images(), o));
        NNP_CHECK(transforms_keep_layout(digits_cnn_pipe, digit_images(), o));
    }
    // and the flat pipelines keep their layout too
    NNP_CHECK(transforms_keep_layout(iris_pipe, iris()));
    NNP_CHECK(transforms_keep_layout(digits_pipe, digits()));
    NNP_CHECK(positions_reach_output(iris_pipe, iris()));
}

TEST_CASE("digits CNN, bug 2: H x W x C rows fed as C x H x W (the axes transposed)") {
    const auto bug = digits_cnn_pipe.transform(bugs::hwc_read_as_cwh<1, 8, 8>{});
    expect_red([&] { return transforms_keep_layout(bug, digit_images()); }, "transforms_keep_layout",
               {"transform 2 of 2 (hwc_read_as_cwh<1, 8, 8>)", "moves features",
                "H x W x C data read as C x H x W"});
    // applied before standardising, it is the first of two
    const auto first = pipeline(image_data{}, digits_cnn, softmax_cross_entropy, adam{.lr = 1e-2})
                           .transform(bugs::hwc_read_as_cwh<1, 8, 8>{})
                           .transform(standardised);
    expect_red([&] { return transforms_keep_layout(first, digit_images()); }, "transforms_keep_layout",
               {"transform 1 of 2", "feature 1 (channel 0, row 0, column 1) now holds what feature 8 "
                                    "(channel 0, row 1, column 0) held"});
}

TEST_CASE("digits CNN, bug 1: a reshape before the dense head mixes the batch axis with the features") {
    const auto bug = cnn_pipe(input<1, 8, 8> | conv2d<8, 3, same_padding> | batch_norm | relu | max_pool2d<2> |
                              conv2d<16, 3, same_padding> | relu | global_avg_pool | bugs::batch_mixing_reshape{} |
                              dense<10>);
    expect_red([&] { return batch_invariance(bug, digit_images()); }, "batch_invariance",
               {"first node whose output diverges is node 8 batch_mixing_reshape"});
}

TEST_CASE("digits CNN: a pooling stride that drops half the image") {
    const auto bug = cnn_pipe(input<1, 8, 8> | conv2d<8, 3, same_padding> | batch_norm | relu |
                              max_pool2d<2, stride<4>> | conv2d<16, 3, same_padding> | relu | global_avg_pool |
                              dense<10>);
    expect_red([&] { return positions_reach_output(bug, digit_images()); }, "positions_reach_output",
               {"48 of the 64 positions of node 3 relu (8x8x8) never change the output",
                "the first at row 0, column 2", "node 4 max_pool2d<2, stride 4> takes that output"});
}

TEST_CASE("digits CNN, bugs 5 and 6: a frozen conv layer, a bypassed one") {
    const auto frozen = cnn_pipe(input<1, 8, 8> | conv2d<8, 3, same_padding> | batch_norm | relu | max_pool2d<2> |
                                 conv2d<16, 3, same_padding>.frozen() | relu | global_avg_pool | dense<10>);
    expect_red([&] { return all_layers_change(frozen, digit_images()); }, "all_layers_change",
               {"node 5 conv2d<16, 3x3, same> weight", "frozen"});
    const auto bypassed = cnn_pipe(input<1, 8, 8> | conv2d<8, 3, same_padding> | batch_norm | relu |
                                   max_pool2d<2> | bugs::bypassed_scale{} | conv2d<16, 3, same_padding> | relu |
                                   global_avg_pool | dense<10>);
    expect_red([&] { return gradients_flow(bypassed, digit_images()); }, "gradients_flow",
               {"node 5 bypassed_scale gain"});
}

TEST_CASE("digits CNN, bug 8: the conv batch norm uses batch statistics in evaluation") {
    const auto bug = cnn_pipe(input<1, 8, 8> | conv2d<8, 3, same_padding> | bugs::batch_norm_in_train_mode{} |
                              relu | max_pool2d<2> | conv2d<16, 3, same_padding> | relu | global_avg_pool |
                              dense<10>);
    expect_red([&] { return batch_invariance(bug, digit_images()); }, "batch_invariance",
               {"first node whose output diverges is node 2 batch_norm_in_train_mode"});
}

TEST_CASE("bug 1: labels shuffled apart from their inputs in the batcher") {
    const auto iris_bug = iris_pipe.batches(misaligned_batcher{});
    const auto digits_bug = digits_pipe.batches(misaligned_batcher{});
    expect_red([&] { return overfits(iris_bug, iris()); }, "overfits", {"labels", "stuck at chance"});
    expect_red([&] { return overfits(digits_bug, digits()); }, "overfits", {"labels"});
}

TEST_CASE("bug 1: labels taken from the previous batch: overfits fails, never blames the initialisation, names the batcher") {
    // The evaluation loss comes down to chance, then training makes it confidently wrong: the
    // hint once read that final loss alone and blamed "weights initialised at a huge scale".
    const auto check = [](const auto& p, const auto& d, const auto& o) { return overfits(p, d, o); };
    const char* blame = "passes when the batcher `previous_labels` is replaced by full_batch: the batcher is the likely cause";
    std::size_t rose = 0;
    for (std::uint64_t s = 1; s <= 10; ++s) {
        CAPTURE(s);
        const verdict v = blame_stage(check, iris_pipe.batches(bugs::previous_labels{}), iris(), probe_options{.run_seed = seed{s}});
        CHECK_MESSAGE(!v.passed, v.explanation);
        CHECK_MESSAGE(v.explanation.find("huge scale") == std::string::npos, v.explanation);
        CHECK_MESSAGE(v.hint.find("labels") != std::string::npos, v.hint);
        CHECK_MESSAGE(v.explanation.find(blame) != std::string::npos, v.explanation);
        CHECK(v.stage == "the batcher `previous_labels`");
        rose += v.explanation.find("training made it rise") != std::string::npos;
    }
    CHECK(rose > 0);  // the seeds whose loss ends above chance (3 and 6) are told apart
    for (std::uint64_t s = 1; s <= 3; ++s) {
        CAPTURE(s);
        const verdict v = blame_stage(check, digits_pipe.batches(bugs::previous_labels{}), digits(), probe_options{.run_seed = seed{s}});
        CHECK_MESSAGE(!v.passed, v.explanation);
        CHECK_MESSAGE(v.explanation.find("huge scale") == std::string::npos, v.explanation);
        CHECK_MESSAGE(v.explanation.find(blame) != std::string::npos, v.explanation);
    }
    // weights at a huge scale that training never brings near chance keep their hint
    const auto huge = pipeline(iris_data{}, input<4> | dense<16> | relu | dense<3>.init(init::normal(1e3)),
                               softmax_cross_entropy, sgd{.lr = 1e-6}).transform(standardised);
    expect_red([&] { return overfits(huge, iris()); }, "overfits", {"huge scale", "never near chance"});
}

TEST_CASE("the guilty stage: each user stage replaced in turn, the one whose replacement passes is named") {
    // a transform: the zeroing mask, in every check it fails
    for (const verdict& v : probe_suite(iris_pipe.transform(zeroing_mask{}), iris())) {
        if (v.passed) continue;
        CHECK_MESSAGE(v.explanation.find("passes when transform 2 of 2 `zeroing_mask` is replaced by the identity: "
                                         "that transform is the likely cause") != std::string::npos,
                      v.explanation);
        CHECK(v.stage == "transform 2 of 2 `zeroing_mask`");
    }
    // the gather stage
    const verdict g = blame_stage([](const auto& p, const auto& d, const auto& o) { return batch_invariance(p, d, o); },
                                  digits_pipe.gathered(bugs::reversed_gather{}), digits());
    CHECK_MESSAGE(g.explanation.find("passes when the gather stage `reversed_gather` is replaced by in_order") !=
                      std::string::npos, g.explanation);
    // a user layer, among a user batcher that is fine: the layer alone is named
    const auto centred = pipeline(iris_data{}, input<4> | dense<16> | relu | batch_centre{} | dense<3>,
                                  softmax_cross_entropy, adam{.lr = 1e-2})
                             .batches(users_full_batch{})
                             .transform(standardised);
    const verdict c = blame_stage([](const auto& p, const auto& d, const auto& o) { return batch_invariance(p, d, o); },
                                  centred, iris());
    CHECK_MESSAGE(c.explanation.find("passes when node 3 `batch_centre` is replaced by an identity: that layer is the "
                                     "likely cause") != std::string::npos, c.explanation);
    const auto bypassed = pipeline(iris_data{}, input<4> | dense<16> | relu | bugs::bypassed_scale{} | dense<3>,
                                   softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    const verdict b = blame_stage([](const auto& p, const auto& d, const auto& o) { return gradients_flow(p, d, o); },
                                  bypassed, iris());
    CHECK(b.stage == "node 3 `bypassed_scale`");
    // a user optimiser stepping uphill
    const verdict u = blame_stage([](const auto& p, const auto& d, const auto& o) { return gradients_flow(p, d, o); },
                                  iris_pipe.optimise_with(user_sgd{.lr = -0.1}), iris());
    CHECK_MESSAGE(u.explanation.find("passes when the optimiser `user_sgd` is replaced by adam{.lr = 0.01}: the "
                                     "optimiser is the likely cause") != std::string::npos, u.explanation);
    // the other way: a library layer frozen, behind a user transform that is fine: no stage is blamed
    struct clip {
        void operator()(matrix<float>& x) const {
            for (auto& v : x) v = std::clamp(v, -3.0f, 3.0f);
        }
    };
    const auto frozen = pipeline(iris_data{}, input<4> | dense<16> | relu | dense<3>.frozen(), softmax_cross_entropy,
                                 adam{.lr = 1e-2}).transform(standardised).transform(clip{});
    const verdict f = blame_stage([](const auto& p, const auto& d, const auto& o) { return all_layers_change(p, d, o); },
                                  frozen, iris());
    CHECK_MESSAGE(f.explanation.find("still fails with each of its 1 user stage replaced in turn") != std::string::npos,
                  f.explanation);
    CHECK(f.stage.empty());
    // and a pipeline of library stages alone is not rerun: its verdict is the check's own
    const auto lib_frozen = pipeline(iris_data{}, input<4> | dense<16> | relu | dense<3>.frozen(),
                                     softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    CHECK(blame_stage([](const auto& p, const auto& d, const auto& o) { return all_layers_change(p, d, o); },
                      lib_frozen, iris()).explanation == all_layers_change(lib_frozen, iris()).explanation);
}

TEST_CASE("stage and layer names read plainly; library layers are told from the user's") {
    CHECK(detail::readable_name("nnp::bugs::hwc_read_as_cwh<1ul, 8ul, 8ul>") == "hwc_read_as_cwh<1, 8, 8>");
    CHECK(detail::readable_name("(anonymous namespace)::my_mask<std::vector<int, std::allocator<int> >, 3l>") ==
          "my_mask<vector<int, allocator<int> >, 3>");
    CHECK(detail::readable_name("user_sgd") == "user_sgd");
    CHECK(detail::readable_type_name<bugs::previous_labels>() == "previous_labels");
    static_assert(detail::library_layer<dense_t<16>>() && detail::library_layer<relu_t>());
    static_assert(!detail::library_layer<bugs::bypassed_scale>() && !detail::library_layer<bugs::batch_norm_in_train_mode>());
    static_assert(!detail::library_layer<user_sgd>());
}

TEST_CASE("bug 1: outputs gathered in the wrong order") {
    expect_red([&] { return batch_invariance(iris_pipe.gathered(bugs::reversed_gather{}), iris()); },
               "batch_invariance", {"yet every node agrees", "gather stage"});
    expect_red([&] { return batch_invariance(digits_pipe.gathered(bugs::reversed_gather{}), digits()); },
               "batch_invariance", {"gathered output differs"});
    // and a gather stage that restores an order is fine
    struct identity_gather {
        void operator()(std::size_t rows, std::vector<std::size_t>& order) const {
            order.resize(rows);
            for (std::size_t i = 0; i < rows; ++i) order[i] = i;
        }
    };
    NNP_CHECK_PROBES(iris_pipe.gathered(identity_gather{}), iris());
}

TEST_CASE("bug 2: a mask on the wrong axis, or one that zeroes the data") {
    expect_red([&] { return overfits(iris_pipe.transform(wrong_axis_mask{}), iris()); }, "overfits",
               {"not below", "zeroed by a mask"});
    expect_red([&] { return overfits(digits_pipe.transform(wrong_axis_mask{}), digits()); }, "overfits",
               {"not below"});
    expect_red([&] { return overfits(iris_pipe.transform(zeroing_mask{}), iris()); }, "overfits",
               {"stuck at chance", "ignores the input"});
    expect_red([&] { return overfits(digits_pipe.transform(zeroing_mask{}), digits()); }, "overfits",
               {"stuck at chance"});
    // the zeroed data leaves the first dense layer's weight without a gradient: its input is
    // zero, which is not "bypassed" (the bypassed layer of bug 5 is told the other way)
    for (const verdict& v : {gradients_flow(iris_pipe.transform(zeroing_mask{}), iris()),
                             all_layers_change(iris_pipe.transform(zeroing_mask{}), iris())}) {
        CHECK_MESSAGE(!v.passed, v.explanation);
        CHECK_MESSAGE(v.explanation.find("node 1 dense<16> weight") != std::string::npos, v.explanation);
        CHECK_MESSAGE(v.explanation.find("its input, node 0 input (the data after the pipeline's transforms), is zero "
                                         "for every sample at step 0") != std::string::npos, v.explanation);
        CHECK_MESSAGE(v.explanation.find("bypassed") == std::string::npos, v.explanation);
        CHECK_MESSAGE(v.explanation.find("on the path to the loss?") == std::string::npos, v.explanation);
    }
    expect_red([&] { return gradients_flow(digits_pipe.transform(zeroing_mask{}), digits()); }, "gradients_flow",
               {"node 1 dense<64> weight", "its input, node 0 input", "does a transform zero the data"});
}

TEST_CASE("bug 4: weights initialised to zero, or at a huge scale") {
    const auto iris_zero = pipeline(iris_data{}, input<4> | dense<16>.init(init::zeros) | relu | dense<3>,
                                    softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return gradients_flow(iris_zero, iris()); }, "gradients_flow",
               {"node 1 dense<16> weight", "gradient is zero at step 0"});
    const auto digits_zero =
        pipeline(digits_data{},
                 input<64> | dense<64> | relu | named<"trunk"> | dense<64>.init(init::zeros) | relu |
                     dense<64> | add<"trunk"> | relu | dense<10>,
                 softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return gradients_flow(digits_zero, digits()); }, "gradients_flow",
               {"node 3 dense<64> weight"});
    const auto iris_huge = pipeline(iris_data{}, input<4> | dense<16>.init(init::normal(1e4)) | relu | dense<3>,
                                    softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    // init_sane names it at step 0; overfits, whose budget now extends while the loss still
    // falls, may memorise through it (730 steps on seed 1), so it is no longer the check for it.
    expect_red([&] { return init_sane(iris_huge, iris()); }, "init_sane", {"loss at initialisation", "too large a scale"});
}

TEST_CASE("bug 5: a layer added but bypassed in its forward pass") {
    const auto iris_bug = pipeline(iris_data{}, input<4> | dense<16> | relu | bugs::bypassed_scale{} | dense<3>,
                                   softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return gradients_flow(iris_bug, iris()); }, "gradients_flow",
               {"node 3 bypassed_scale gain", "on the path to the loss"});
    expect_red([&] { return all_layers_change(iris_bug, iris()); }, "all_layers_change",
               {"node 3 bypassed_scale gain", "gradient is zero too"});
    for (const verdict& v : {gradients_flow(iris_bug, iris()), all_layers_change(iris_bug, iris())})
        CHECK_MESSAGE(v.explanation.find("its input") == std::string::npos, v.explanation);  // it is fed
    const auto digits_bug =
        pipeline(digits_data{},
                 input<64> | dense<64> | relu | named<"trunk"> | dense<64> | relu | bugs::bypassed_scale{} |
                     dense<64> | add<"trunk"> | relu | dense<10>,
                 softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return gradients_flow(digits_bug, digits()); }, "gradients_flow",
               {"node 5 bypassed_scale gain"});
}

TEST_CASE("bug 6: a layer frozen by mistake") {
    const auto iris_bug = pipeline(iris_data{}, input<4> | dense<16> | relu | dense<3>.frozen(),
                                   softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return all_layers_change(iris_bug, iris()); }, "all_layers_change",
               {"node 3 dense<3> weight", "frozen"});
    const auto digits_bug =
        pipeline(digits_data{},
                 input<64> | dense<64> | relu | named<"trunk"> | dense<64> | relu | dense<64>.frozen() |
                     add<"trunk"> | relu | dense<10>,
                 softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return all_layers_change(digits_bug, digits()); }, "all_layers_change",
               {"node 5 dense<64> weight", "frozen"});
}

TEST_CASE("bug 7: the learning rate reaches only some layers") {
    const auto iris_zero_lr = pipeline(iris_data{}, input<4> | dense<16>.lr_scale(0) | relu | dense<3>,
                                       softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return all_layers_change(iris_zero_lr, iris()); }, "all_layers_change",
               {"node 1 dense<16> weight", "learning rate of zero"});
    const auto digits_tiny_lr =
        pipeline(digits_data{},
                 input<64> | dense<64> | relu | named<"trunk"> | dense<64>.lr_scale(1e-4) | relu |
                     dense<64> | add<"trunk"> | relu | dense<10>,
                 softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return all_layers_change(digits_tiny_lr, digits()); }, "all_layers_change",
               {"node 3 dense<64> weight", "vanishing share"});
}

TEST_CASE("bug 8: batch statistics used in evaluation mode") {
    const auto iris_bug = pipeline(iris_data{}, input<4> | dense<16> | relu | batch_centre{} | dense<3>,
                                   softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return batch_invariance(iris_bug, iris()); }, "batch_invariance",
               {"first node whose output diverges is node 3 batch_centre", "alone"});
    const auto digits_bug =
        pipeline(digits_data{},
                 input<64> | dense<64> | relu | named<"trunk"> | dense<64> | relu | dense<64> |
                     add<"trunk"> | relu | batch_centre{} | dense<10>,
                 softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return batch_invariance(digits_bug, digits()); }, "batch_invariance",
               {"node 8 batch_centre"});
}

}  // TEST_SUITE

namespace {
// A user's per-feature gain (examples/custom_layer.cpp) with one backward bug each (Bug): 1, the
// input gradient multiplied by the input instead of the gain; 0, the gain's gradient by the
// gain instead of the input; 2, the input gradient without the gain, right only while the gain
// is at its initial 1 (a check before training cannot see it). Forward is right in all.
template <int Bug>
struct buggy_gain : layer_base<buggy_gain<Bug>> {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    template <class In>
    using output_shape = In;
    static std::string describe() { return Bug == 1 ? "gain_wrong_dx" : Bug == 0 ? "gain_wrong_dgain" : "gain_dx_without_gain"; }
    template <class T, class In>
    struct impl {
        vector<T> gain = detail::filled_vector<T>(In::size, T(1)), dgain = detail::filled_vector<T>(In::size, T(0));
        template <class F>
        void for_each_param(F&& f) { f("gain", gain, dgain); }
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            for (std::size_t r = 0; r < x.shape()[0]; ++r)
                for (std::size_t j = 0; j < In::size; ++j) y(r, j) = gain(j) * x(r, j);
        }
        void backward(const matrix<T>& x, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx, context&) {
            dgain.fill(T(0));
            for (std::size_t r = 0; r < x.shape()[0]; ++r)
                for (std::size_t j = 0; j < In::size; ++j) {
                    dgain(j) += dy(r, j) * (Bug == 0 ? gain(j) : x(r, j));  // BUG when 0
                    if (dx) (*dx)(r, j) = dy(r, j) * (Bug == 1 ? x(r, j) : Bug == 2 ? T(1) : gain(j));  // BUG when 1, 2
                }
        }
    };
};
template <int Bug>
constexpr auto iris_with_gain = input<4> | dense<16> | relu | buggy_gain<Bug>{} | dense<3>;
//  node 3: the gain
template <int Bug>
constexpr auto digits_with_gain = input<64> | dense<64> | relu | named<"trunk"> | dense<64> | relu |
                                  buggy_gain<Bug>{} | dense<64> | add<"trunk"> | relu | dense<10>;
//  node 5: the gain
}  // namespace

TEST_SUITE("probes") {

TEST_CASE("bug: a user layer's backward gives a wrong input gradient: gradient_check names that layer") {
    const auto iris_dx = pipeline(iris_data{}, iris_with_gain<1>, softmax_cross_entropy, adam{.lr = 1e-2})
                             .transform(standardised);
    const auto digits_dx = pipeline(digits_data{}, digits_with_gain<1>, softmax_cross_entropy, adam{.lr = 1e-2})
                               .transform(standardised);
    for (std::uint64_t s = 1; s <= 3; ++s) {
        CAPTURE(s);
        const probe_options o{.run_seed = seed{s}};
        expect_red([&] { return gradient_check(iris_dx, iris(), o); }, "gradient_check",
                   {"node 3 gain_wrong_dx: wrong gradient for dx ", "for its input"});
        expect_red([&] { return gradient_check(digits_dx, digits(), o); }, "gradient_check",
                   {"node 5 gain_wrong_dx: wrong gradient for dx ", "for its input"});
        CHECK(gradient_check(iris_dx, iris(), o).node == std::size_t{3});
    }
    // The whole-model check used to blame node 1, whose weight gradient the wrong dx corrupts:
    // checked alone, each node names the one whose backward is wrong.
    auto m = make_model<double>(iris_with_gain<1>, seed{3});
    matrix<double> x = matrix<double>({6, 4}, 0.0);
    rng gen(5);
    for (auto& v : x) v = gen.normal();
    const auto r = check_model_gradient(m, x);
    CHECK_FALSE(r.ok);
    CHECK(r.mentions("node 1 dense<16> weight"));
    CHECK_MESSAGE(r.explain().find("checked alone on the inputs it receives, node 3 gain_wrong_dx gives a wrong "
                                   "gradient (dx)") != std::string::npos,
                  r.explain());
}

TEST_CASE("gradient_check warms up in the checks' scalar type and compares in double: float and double agree") {
    // In float (the default) the warm-up steps are the float run every other check uses, and
    // the comparisons run on a copy of its network in double holding its weights; in double
    // the run's own network is compared. Both pass the healthy pipeline and name the same node
    // of the broken one.
    const auto iris_dx = pipeline(iris_data{}, iris_with_gain<1>, softmax_cross_entropy, adam{.lr = 1e-2})
                             .transform(standardised);
    for (std::uint64_t s = 1; s <= 3; ++s) {
        CAPTURE(s);
        const probe_options o{.run_seed = seed{s}};
        const verdict in_float = gradient_check(iris_pipe, iris(), o);
        const verdict in_double = gradient_check<double>(iris_pipe, iris(), o);
        CHECK_MESSAGE(in_float.passed, in_float.explanation);
        CHECK_MESSAGE(in_double.passed, in_double.explanation);
        // The warm-up losses are the float pipeline's own, step for step.
        const auto warmup = mini_run<float>(iris_pipe, detail::probe_subset(iris(), o),
                                            run_options{o.run_seed, detail::gradient_check_warmup, false, {}});
        CHECK(in_float.series == warmup.loss);
        CHECK(in_double.series != warmup.loss);

        const verdict broken_float = gradient_check(iris_dx, iris(), o);
        const verdict broken_double = gradient_check<double>(iris_dx, iris(), o);
        CHECK_FALSE(broken_float.passed);
        CHECK_FALSE(broken_double.passed);
        CHECK(broken_float.node == 3);
        CHECK(broken_double.node == 3);
    }
}

TEST_CASE("bug: an input gradient that forgets the gain, right only at the initial gain 1: gradient_check sees it after the warm-up") {
    // The copy in double holds the weights of the float run after its warm-up steps; checked
    // on the initial weights (gain 1 everywhere), this backward gives the right gradient.
    const auto pipe = pipeline(iris_data{}, iris_with_gain<2>, softmax_cross_entropy, adam{.lr = 1e-2})
                          .transform(standardised);
    expect_red([&] { return gradient_check(pipe, iris()); }, "gradient_check",
               {"node 3 gain_dx_without_gain: wrong gradient for dx ", "for its input"});
    // The same layer on its initial weights: nothing to see.
    auto m = make_model<double>(iris_with_gain<2>, seed{3});
    matrix<double> x = matrix<double>({6, 4}, 0.0);
    rng gen(5);
    for (auto& v : x) v = gen.normal();
    m.forward(x, mode::train);
    CHECK(detail::gradcheck::check_nodes_alone(m).ok);
}

TEST_CASE("bug: a user layer's backward gives a wrong parameter gradient: gradient_check names that layer") {
    const auto iris_dg = pipeline(iris_data{}, iris_with_gain<0>, softmax_cross_entropy, adam{.lr = 1e-2})
                             .transform(standardised);
    const auto digits_dg = pipeline(digits_data{}, digits_with_gain<0>, softmax_cross_entropy, adam{.lr = 1e-2})
                               .transform(standardised);
    expect_red([&] { return gradient_check(iris_dg, iris()); }, "gradient_check",
               {"node 3 gain_wrong_dgain: wrong gradient for gain ", "a parameter gradient"});
    expect_red([&] { return gradient_check(digits_dg, digits()); }, "gradient_check",
               {"node 5 gain_wrong_dgain: wrong gradient for gain "});
}

TEST_CASE("gradient_check: kinks are skipped, not judged: relu at 0 and tied max-pool inputs") {
    // The CNN's max pool follows a relu: windows of zeros are ties, and pre-activations sit
    // on relu's kink; the check skips those entries instead of failing them.
    const verdict v = gradient_check(digits_cnn_pipe, digit_images());
    CHECK_MESSAGE(v.passed, v.explanation);
    CHECK(v.explanation.find("entries at a kink skipped") != std::string::npos);
}

TEST_CASE("bug: a learning rate ten times the healthy one: flagged on the Iris MLP and the digits residual MLP") {
    // The healthy rate of both is Adam's 1e-2 (they pass every check for 20 seeds at it).
    for (std::uint64_t s = 1; s <= 5; ++s) {
        CAPTURE(s);
        const probe_options o{.run_seed = seed{s}};
        // Iris memorises through it without a jump: the sustained update/weight ratio says it.
        expect_red([&] { return all_layers_change(iris_pipe.optimise_with(adam{.lr = 1e-1}), iris(), o); },
                   "all_layers_change", {"learning rate too high"});
        // The residual MLP's loss jumps 2x to 5x at the first step, then memorises anyway: the
        // same sustained update/weight ratio says it (unit_health lets a spike that training
        // undoes pass, as healthy per-sample runs have them).
        expect_red([&] { return all_layers_change(digits_pipe.optimise_with(adam{.lr = 1e-1}), digits(), o); },
                   "all_layers_change", {"learning rate too high"});
        // A rate that makes the loss run away: unit_health.
        expect_red([&] { return unit_health(digits_pipe.optimise_with(sgd{.lr = 3}), digits(), o); }, "unit_health",
                   {"the loss", "learning rate too high"});
        expect_red([&] { return unit_health(iris_pipe.optimise_with(sgd{.lr = 30}), iris(), o); }, "unit_health",
                   {"learning rate too high"});
        NNP_CHECK(unit_health(iris_pipe, iris(), o));
        NNP_CHECK(unit_health(digits_pipe, digits(), o));
    }
}

namespace {
// A user's centring layer meant for raw pixel values (0 to 16) applied to standardised
// features: it shifts every pre-activation far below zero.
struct pixel_centre : layer_base<pixel_centre> {
    static constexpr linearity_class linearity = linearity_class::affine_elementwise;
    template <class In>
    using output_shape = In;
    static std::string describe() { return "pixel_centre"; }
    template <class T, class In>
    struct impl {
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            for (std::size_t i = 0; i < x.size(); ++i) y.data()[i] = x.data()[i] - T(8);  // BUG on standardised data
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx, context&) {
            if (dx) detail::copy_into(*dx, dy);
        }
    };
};
}  // namespace

TEST_CASE("bug: dead relu units and saturated tanh units: unit_health names the activation node") {
    const auto iris_dead = pipeline(iris_data{}, input<4> | dense<16> | pixel_centre{} | relu | dense<3>,
                                    softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return unit_health(iris_dead, iris()); }, "unit_health",
               {"node 3 relu: 16 of 16 units are dead relu units", "at initialisation", "dying relu"});
    const auto digits_dead =
        pipeline(digits_data{}, input<64> | dense<64> | pixel_centre{} | relu | named<"trunk"> | dense<64> | relu |
                                    dense<64> | add<"trunk"> | relu | dense<10>,
                 softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return unit_health(digits_dead, digits()); }, "unit_health",
               {"node 3 relu \"trunk\":", "dead relu units"});

    const auto iris_saturated = pipeline(iris_data{}, input<4> | dense<16>.init(init::normal(50)) | tanh_act | dense<3>,
                                         softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return unit_health(iris_saturated, iris()); }, "unit_health",
               {"node 2 tanh:", "of its activations are saturated tanh units", "at initialisation"});
    const auto digits_saturated =
        pipeline(digits_data{}, input<64> | dense<64>.init(init::normal(10)) | tanh_act | named<"trunk"> | dense<64> |
                                    relu | dense<64> | add<"trunk"> | relu | dense<10>,
                 softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return unit_health(digits_saturated, digits()); }, "unit_health",
               {"node 2 tanh \"trunk\":", "saturated tanh units"});
}

TEST_CASE("bug: vanishing gradients through stacked sigmoids initialised small") {
    constexpr auto w = init::normal(0.1);
    const auto deep = pipeline(iris_data{},
                               input<4> | dense<16>.init(w) | sigmoid | dense<16>.init(w) | sigmoid | dense<16>.init(w) |
                                   sigmoid | dense<16>.init(w) | sigmoid | dense<16>.init(w) | sigmoid |
                                   dense<16>.init(w) | sigmoid | dense<3>,
                               softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return unit_health(deep, iris()); }, "unit_health",
               {"node 1 dense<16>: its weight gradient (RMS) is", "that of node 13 dense<3>", "vanishing gradients"});
}

TEST_CASE("bug: weights 100x too small: init_sane says the scale vanishes, and at which node") {
    const auto iris_small = pipeline(iris_data{}, input<4> | dense<16>.init(init::normal(0.007)) | relu | dense<3>,
                                     softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return init_sane(iris_small, iris()); }, "init_sane",
               {"node 1 dense<16>: at initialisation its output RMS is", "vanishes layer by layer", "a scale fault"});
    constexpr auto small = init::normal(0.01 * 0.177);
    const auto digits_small =
        pipeline(digits_data{}, input<64> | dense<64> | relu | named<"trunk"> | dense<64>.init(small) | relu |
                                    dense<64> | add<"trunk"> | relu | dense<10>,
                 softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    for (std::uint64_t s = 1; s <= 5; ++s) {
        CAPTURE(s);
        expect_red([&] { return init_sane(digits_small, digits(), probe_options{.run_seed = seed{s}}); }, "init_sane",
                   {"node 3 dense<64>: at initialisation", "vanishes", "a scale fault"});
    }
}

TEST_CASE("bug: constant initialisation of a 13-32-3 tanh network: a symmetry fault, not a scale one") {
    // 13 features (as in the wine data), three classes apart in their means.
    dataset<features<13>, classes<3>> wine_like;
    wine_like.x = xt::xtensor<float, 2>(std::array<std::size_t, 2>{150, 13});
    wine_like.y.resize(150);
    rng r(seed{13});
    for (std::size_t i = 0; i < 150; ++i) {
        wine_like.y[i] = static_cast<typename decltype(wine_like.y)::value_type>(i % 3);
        for (std::size_t j = 0; j < 13; ++j)
            wine_like.x(i, j) = static_cast<float>(r.normal() + ((j + wine_like.y[i]) % 3 == 0 ? 2.0 : 0.0));
    }
    const auto constant = pipeline(data<features<13>, classes<3>>, input<13> | dense<32>.init(init::constant(0.05)) |
                                                                        tanh_act | dense<3>,
                                   softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    const auto healthy = pipeline(data<features<13>, classes<3>>, input<13> | dense<32> | tanh_act | dense<3>,
                                  softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    for (std::uint64_t s = 1; s <= 5; ++s) {
        CAPTURE(s);
        const probe_options o{.run_seed = seed{s}};
        // It memorises anyway: 32 identical units are one unit, and one is enough here.
        NNP_CHECK(overfits(constant, wine_like, o));
        const verdict v = init_sane(constant, wine_like, o);
        CHECK_FALSE(v.passed);
        CHECK_MESSAGE(v.explanation.find("node 1 dense<32>: units 0 and 1 compute the same function") != std::string::npos,
                      v.explanation);
        // Symmetry is named first; where the constant also sets the layer's scale outside its
        // band (0.098x on seed 5), the message says so as well.
        CHECK_MESSAGE(v.explanation.find("at initialisation") != std::string::npos, v.explanation);
        CHECK_MESSAGE(v.hint.starts_with("a symmetry fault"), v.explanation);
        NNP_CHECK(init_sane(healthy, wine_like, o));
    }
}

TEST_CASE("bug 12: gradient ascent (a sign error in the optimiser's step)") {
    expect_red([&] { return gradients_flow(iris_pipe.optimise_with(sgd{.lr = -0.1}), iris()); },
               "gradients_flow", {"does not decrease", "gradient ascent"});
    expect_red([&] { return gradients_flow(digits_pipe.optimise_with(sgd{.lr = -0.05}), digits()); },
               "gradients_flow", {"does not decrease"});
}

TEST_CASE("bug 9: unseeded randomness or state kept between runs, named by determinism") {
    // a batcher counting its calls in a static, or in a mutable member
    expect_red([&] { return determinism(iris_pipe.batches(bugs::call_counting_batcher{}), iris()); }, "determinism",
               {"two runs with seed 1 part at step 0", "the batch's labels differ",
                "the stage that differs is the batcher `call_counting_batcher`", "a static"});
    expect_red([&] { return determinism(digits_pipe.batches(bugs::call_counting_batcher{}), digits()); },
               "determinism", {"at step 0", "the batcher `call_counting_batcher`"});
    expect_red([&] { return determinism(iris_pipe.batches(bugs::epoch_counting_batcher{}), iris()); }, "determinism",
               {"at step 0", "the batcher `epoch_counting_batcher`"});
    expect_red([&] { return determinism(digits_pipe.batches(bugs::epoch_counting_batcher{}), digits()); },
               "determinism", {"the batcher `epoch_counting_batcher`"});
    // noise augmentation from std::random_device: the transform, by position and type
    expect_red([&] { return determinism(iris_pipe.transform(bugs::unseeded_noise{}), iris()); }, "determinism",
               {"at step 0", "the stage that differs is transform 2 of 2 `unseeded_noise`",
                "unseeded randomness"});
    expect_red([&] { return determinism(digits_pipe.transform(bugs::unseeded_noise{}), digits()); }, "determinism",
               {"transform 2 of 2 `unseeded_noise`"});
    // a layer drawing its dropout mask from std::random_device
    const auto iris_dropout = pipeline(iris_data{}, input<4> | dense<16> | relu | bugs::unseeded_dropout{} | dense<3>,
                                       softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return determinism(iris_dropout, iris()); }, "determinism",
               {"at step 0", "the output of node 3 unseeded_dropout differs, its inputs agree"});
    const auto digits_dropout =
        pipeline(digits_data{},
                 input<64> | dense<64> | relu | named<"trunk"> | dense<64> | relu | bugs::unseeded_dropout{} |
                     dense<64> | add<"trunk"> | relu | dense<10>,
                 softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return determinism(digits_dropout, digits()); }, "determinism",
               {"the output of node 5 unseeded_dropout differs"});
    // an initialisation that ignores the seed: another seed, the same weights
    const auto iris_fixed = pipeline(iris_data{}, input<4> | dense<16> | relu | bugs::fixed_seed_gain{} | dense<3>,
                                     softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    for (std::uint64_t s = 1; s <= 3; ++s) {
        CAPTURE(s);
        const verdict v = determinism(iris_fixed, iris(), probe_options{.run_seed = seed{s}});
        CHECK_MESSAGE(!v.passed, v.explanation);
        CHECK(v.node == 3);
        CHECK_MESSAGE(v.explanation.find(fmt::format("node 3 fixed_seed_gain gain has the same initial bits with "
                                                     "seed {} and seed {}", s, s + 1)) != std::string::npos,
                      v.explanation);
    }
    const auto digits_fixed =
        pipeline(digits_data{},
                 input<64> | dense<64> | relu | named<"trunk"> | dense<64> | relu | bugs::fixed_seed_gain{} |
                     dense<64> | add<"trunk"> | relu | dense<10>,
                 softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return determinism(digits_fixed, digits()); }, "determinism",
               {"node 5 fixed_seed_gain gain has the same initial bits", "ignores the seed"});
    // the library's own shuffled batches and dropout are seeded: no false alarm
    NNP_CHECK(determinism(iris_pipe.batches(shuffled_batches{.size = 8}), iris()));
    NNP_CHECK(determinism(pipeline(iris_data{}, input<4> | dense<16> | relu | dropout(0.3) | dense<3>,
                                   softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised),
                          iris()));
}

TEST_CASE("bug 1 inside the network: samples mixed, named by cross_sample_independence") {
    // a reshape that reads the batch's buffer transposed, before the head
    const auto iris_reshape = pipeline(iris_data{}, input<4> | dense<16> | relu | bugs::batch_mixing_reshape{} | dense<3>,
                                       softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return cross_sample_independence(iris_reshape, iris()); }, "cross_sample_independence",
               {"in evaluation mode the loss of sample 0 has a gradient", "the samples mix at node 3 batch_mixing_reshape",
                "batch axis"});
    const auto digits_reshape =
        pipeline(digits_data{},
                 input<64> | dense<64> | relu | named<"trunk"> | dense<64> | relu | dense<64> | add<"trunk"> | relu |
                     bugs::batch_mixing_reshape{} | dense<10>,
                 softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return cross_sample_independence(digits_reshape, digits()); }, "cross_sample_independence",
               {"the samples mix at node 8 batch_mixing_reshape"});
    // inside the residual block: the skip path carries the clean gradient around it
    const auto digits_inner =
        pipeline(digits_data{},
                 input<64> | dense<64> | relu | named<"trunk"> | dense<64> | relu | bugs::batch_mixing_reshape{} |
                     dense<64> | add<"trunk"> | relu | dense<10>,
                 softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return cross_sample_independence(digits_inner, digits()); }, "cross_sample_independence",
               {"the samples mix at node 5 batch_mixing_reshape"});
    const auto cnn_reshape = cnn_pipe(input<1, 8, 8> | conv2d<8, 3, same_padding> | batch_norm | relu | max_pool2d<2> |
                                      conv2d<16, 3, same_padding> | relu | global_avg_pool |
                                      bugs::batch_mixing_reshape{} | dense<10>);
    expect_red([&] { return cross_sample_independence(cnn_reshape, digit_images()); }, "cross_sample_independence",
               {"in evaluation mode", "the samples mix at node 8 batch_mixing_reshape"});
    // a normalisation across samples in evaluation
    const auto iris_centre = pipeline(iris_data{}, input<4> | dense<16> | relu | batch_centre{} | dense<3>,
                                      softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return cross_sample_independence(iris_centre, iris()); }, "cross_sample_independence",
               {"in evaluation mode", "the samples mix at node 3 batch_centre"});
    const auto digits_centre =
        pipeline(digits_data{},
                 input<64> | dense<64> | relu | named<"trunk"> | dense<64> | relu | dense<64> | add<"trunk"> | relu |
                     batch_centre{} | dense<10>,
                 softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return cross_sample_independence(digits_centre, digits()); }, "cross_sample_independence",
               {"the samples mix at node 8 batch_centre"});
    // in training, only nodes that declare batch coupling may mix samples
    const auto iris_undeclared = pipeline(iris_data{}, input<4> | dense<16> | relu | bugs::undeclared_batch_centre{} |
                                                           dense<3>, softmax_cross_entropy, adam{.lr = 1e-2})
                                     .transform(standardised);
    expect_red([&] { return cross_sample_independence(iris_undeclared, iris()); }, "cross_sample_independence",
               {"in training mode", "the samples mix at node 3 undeclared_batch_centre", "declare batch coupling"});
    const auto digits_undeclared =
        pipeline(digits_data{},
                 input<64> | dense<64> | relu | named<"trunk"> | dense<64> | relu | bugs::undeclared_batch_centre{} |
                     dense<64> | add<"trunk"> | relu | dense<10>,
                 softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return cross_sample_independence(digits_undeclared, digits()); }, "cross_sample_independence",
               {"in training mode", "the samples mix at node 5 undeclared_batch_centre"});
    // outputs gathered in the wrong order: sample i's loss is another sample's output
    expect_red([&] { return cross_sample_independence(iris_pipe.gathered(bugs::reversed_gather{}), iris()); },
               "cross_sample_independence", {"the loss of sample 0 is computed on output row 23", "gather stage"});
    // declared coupling (batch norm) in training is fine, and so is the CNN's
    NNP_CHECK(cross_sample_independence(pipeline(iris_data{}, input<4> | dense<16> | batch_norm | relu | dense<3>,
                                                 softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised),
                                        iris()));
    const verdict cnn = cross_sample_independence(digits_cnn_pipe, digit_images());
    CHECK_MESSAGE(cnn.passed, cnn.explanation);
    CHECK(cnn.explanation.find("1 node declaring batch coupling") != std::string::npos);
}

TEST_CASE("bug 13: NaN or Inf from log(0) or a division by zero, named by finite") {
    // a user layer dividing by a divisor initialised to zero: forward, at step 0
    const auto iris_div = pipeline(iris_data{}, input<4> | dense<16> | relu | bugs::zero_divisor{} | dense<3>,
                                   softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return finite(iris_div, iris()); }, "finite",
               {"appears at step 0 in the forward pass, in the output of node 3 zero_divisor, whose inputs are finite",
                "division by zero"});
    const auto digits_div =
        pipeline(digits_data{},
                 input<64> | dense<64> | relu | named<"trunk"> | dense<64> | relu | bugs::zero_divisor{} | dense<64> |
                     add<"trunk"> | relu | dense<10>,
                 softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return finite(digits_div, digits()); }, "finite",
               {"at step 0 in the forward pass, in the output of node 5 zero_divisor"});
    // a user loss taking log(0): the loss, from finite outputs; its gradient goes backward
    const auto iris_log0 = pipeline(iris_data{}, iris_mlp, bugs::relu_normalised_nll{}, adam{.lr = 1e-2})
                               .transform(standardised);
    expect_red([&] { return finite(iris_log0, iris()); }, "finite",
               {"appears at step 0 in relu_normalised_nll: it is NaN while every node's output is finite",
                "its gradient with respect to node 3 dense<3> (the output) holds non-finite values (backward)",
                "log of zero"});
    const auto digits_log0 = pipeline(digits_data{}, digits_residual, bugs::relu_normalised_nll{}, adam{.lr = 1e-2})
                                 .transform(standardised);
    expect_red([&] { return finite(digits_log0, digits()); }, "finite",
               {"at step 0 in relu_normalised_nll", "node 8 dense<10> (the output)"});
    // a backward that divides by zero where the forward is finite
    const auto iris_sqrt = pipeline(iris_data{}, input<4> | dense<16> | relu | bugs::sqrt_units{} | dense<3>,
                                    softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return finite(iris_sqrt, iris()); }, "finite",
               {"at step 0 in the backward pass, in the gradient of node 2 relu",
                "the backward of node 3 sqrt_units, whose own gradient is finite, made it"});
    const auto digits_sqrt =
        pipeline(digits_data{},
                 input<64> | dense<64> | relu | named<"trunk"> | dense<64> | relu | bugs::sqrt_units{} | dense<64> |
                     add<"trunk"> | relu | dense<10>,
                 softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    expect_red([&] { return finite(digits_sqrt, digits()); }, "finite",
               {"in the backward pass, in the gradient of node 4 relu", "the backward of node 5 sqrt_units"});
    // NaN in the data: node 0, the batch after the transforms
    struct poison_first_sample {
        void operator()(matrix<float>& x) const { x(0, 0) = NAN; }
    };
    expect_red([&] { return finite(iris_pipe.transform(poison_first_sample{}), iris()); }, "finite",
               {"at step 0 in the forward pass, in the output of node 0 (the batch after the transforms)"});
    // a learning rate that blows the weights up: the first NaN or Inf is not at step 0
    const auto blown = pipeline(iris_data{}, input<4> | dense<16> | relu | dense<3>, softmax_cross_entropy,
                                sgd{.lr = 1e30}).transform(standardised);
    const verdict v = finite(blown, iris());
    CHECK_MESSAGE(!v.passed, v.explanation);
    CHECK(v.step > std::optional<std::size_t>(0));
    // budgets of zero are refused, as for the other checks
    CHECK_THROWS_WITH_AS(finite(iris_pipe, iris(), probe_options{.finite_steps = 0}),
                         "nnprobe: probe_options.finite_steps is 0: finite would check nothing", nnp::error);
    CHECK_THROWS_WITH_AS(determinism(iris_pipe, iris(), probe_options{.determinism_steps = 0}),
                         "nnprobe: probe_options.determinism_steps is 0: determinism would check nothing", nnp::error);
}

TEST_CASE("the recorders count non-finite values per node and name the first step") {
    matrix<float> m = detail::zero_matrix<float>(7, 9);
    CHECK(detail::count_nonfinite(m) == 0);
    m(6, 8) = NAN;
    m(0, 0) = -INFINITY;
    CHECK(detail::count_nonfinite(m) == 2);
    m = detail::zero_matrix<float>(7, 9);
    m(0, 0) = m(0, 1) = 3e38f;  // the sum overflows, the values are finite
    CHECK(detail::count_nonfinite(m) == 0);
    // Against a plain count, at float and double: every size through two vector blocks and the
    // tail, a NaN, an infinity or an overflowing pair at each place in turn.
    auto sweep = [](auto zero) {
        using T = decltype(zero);
        for (std::size_t n = 1; n <= 70; ++n)
            for (std::size_t at = 0; at < n; ++at)
                for (int kind = 0; kind < 3; ++kind) {
                    matrix<T> x = detail::zero_matrix<T>(1, n);
                    for (std::size_t j = 0; j < n; ++j) x(0, j) = T(j % 7) - T(3);
                    if (kind == 0) x(0, at) = std::numeric_limits<T>::quiet_NaN();
                    if (kind == 1) x(0, at) = -std::numeric_limits<T>::infinity();
                    if (kind == 2) x(0, at) = x(0, n - 1 - at) = std::numeric_limits<T>::max();
                    std::size_t plain = 0;
                    for (T e : x) plain += !std::isfinite(e);
                    CAPTURE(n);
                    CAPTURE(at);
                    CAPTURE(kind);
                    REQUIRE(detail::count_nonfinite(x) == plain);
                }
    };
    sweep(0.f);
    sweep(0.0);

    struct poison_first_sample {  // a transform that writes a NaN into sample 0
        void operator()(matrix<float>& x) const { x(0, 0) = NAN; }
    };
    const auto rec = mini_run(iris_pipe.transform(poison_first_sample{}), stratified(iris(), 4, seed{1}),
                              run_options{.run_seed = seed{1}, .steps = 3, .record = true, .snapshot_steps = {0, 2}});
    const auto activity = rec.nodes.activity();
    REQUIRE(activity.size() == 4);
    CHECK(activity[0]->nonfinite_outputs == 3);  // one per step, in the input node
    CHECK(activity[0]->first_nonfinite_step == 0);
    CHECK(activity[1]->nonfinite_outputs > 0);   // and it spreads through dense<16>
    CHECK(activity[2]->nonfinite_outputs == 0);  // where relu swallows it (NaN > 0 is false) ...
    CHECK(std::isnan(rec.nodes.tensors()[0].grad_norm[0]));  // ... but not from dense<16>'s dW
    // Through tanh the NaN reaches the loss, and the gradients are scanned too.
    const auto tanh_pipe = pipeline(iris_data{}, input<4> | dense<16> | nnp::tanh_act | dense<3>, softmax_cross_entropy,
                                    adam{.lr = 1e-2}).transform(poison_first_sample{});
    const auto blown = mini_run(tanh_pipe, stratified(iris(), 4, seed{1}),
                                run_options{.run_seed = seed{1}, .steps = 2, .record = true, .snapshot_steps = {}});
    CHECK(std::isnan(blown.loss[0]));
    CHECK(blown.nodes.activity()[3]->nonfinite_gradients > 0);
    CHECK(blown.nodes.activity()[3]->first_nonfinite_step == 0);
    CHECK(activity[0]->output_snapshots.size() == 2);
    CHECK(activity[3]->output_snapshots[1].first == 2);
    // the healthy pipeline records none
    const auto clean = mini_run(iris_pipe, stratified(iris(), 4, seed{1}), run_options{.run_seed = seed{1}, .steps = 3, .record = true, .snapshot_steps = {}});
    for (const auto* a : clean.nodes.activity()) CHECK(a->nonfinite_outputs + a->nonfinite_gradients == 0);
    CHECK(clean.nodes.tensors().size() == 4);
    CHECK(clean.nodes.tensors()[0].grad_norm.size() == 3);
}

TEST_CASE("a subset that cannot hold two classes is a clear error") {
    auto one_class = take(iris(), 50);  // Iris is grouped: the first 50 are all class 0
    CHECK_THROWS_WITH_AS(overfits(iris_pipe, one_class), doctest::Contains("at least two classes"),
                         nnp::data_error);
    CHECK_THROWS_WITH_AS(overfits(iris_pipe, iris(), probe_options{.per_class = 60}),
                         doctest::Contains("class 0 has 50 samples"), nnp::data_error);
}

TEST_CASE("the HTML report: real axes, a legend per chart, zeros and NaNs marked, the failing series, the run's settings") {
    struct poison_first_sample {  // NaN in sample 0: through tanh it reaches the loss
        void operator()(matrix<float>& x) const { x(0, 0) = NAN; }
    };
    const auto bypassed = pipeline(iris_data{}, input<4> | dense<16> | relu | bugs::bypassed_scale{} | dense<3>,
                                   softmax_cross_entropy, adam{.lr = 1e-2}).transform(standardised);
    const auto poisoned = pipeline(iris_data{}, input<4> | dense<16> | tanh_act | dense<3>, softmax_cross_entropy,
                                   adam{.lr = 1e-2}).transform(poison_first_sample{});
    const probe_options o{.run_seed = seed{7}};
    const std::vector<report_section> sections = {report_for("healthy", iris_pipe, iris(), o),
                                                  report_for("bypassed layer", bypassed, iris(), o),
                                                  report_for("NaN input", poisoned, iris(), o)};
    const auto path = std::filesystem::temp_directory_path() / ("nnprobe-report-" + std::to_string(::getpid()) + ".html");
    write_html_report(path.string(), "report test", sections);
    std::stringstream text;
    text << std::ifstream(path).rdbuf();
    std::filesystem::remove(path);
    const std::string page = text.str();

    auto count = [](const std::string& s, const std::string& what) {
        std::size_t n = 0;
        for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
        return n;
    };
    // From `from` to the end of the first `end` after it; empty when `from` is npos.
    auto between = [](const std::string& s, std::size_t from, const std::string& end) {
        if (from == std::string::npos) return std::string();
        const auto to = s.find(end, from);
        return s.substr(from, to == std::string::npos ? std::string::npos : to + end.size() - from);
    };
    std::vector<std::string> section_html;
    for (auto at = page.find("<section"); at != std::string::npos; at = page.find("<section", at + 1))
        section_html.push_back(between(page, at, "</section>"));
    REQUIRE(section_html.size() == sections.size());
    // The chart figure with this id, whole; empty when there is none.
    auto figure_with_id = [&](const std::string& s, const std::string& id) {
        return between(s, s.find("<figure class=\"chart\" id=\"" + id + "\""), "</figure>");
    };
    // The value of attribute `name` in the tag starting at `at`.
    auto attribute = [](const std::string& s, std::size_t at, const std::string& name) {
        const auto from = s.find(" " + name + "=\"", at);
        if (from == std::string::npos || from > s.find('>', at)) return std::string();
        const auto begin = from + name.size() + 3;
        return s.substr(begin, s.find('"', begin) - begin);
    };
    // Tick labels as (position, value): the label must be a number.
    auto ticks = [&](const std::string& svg, const std::string& axis) {
        std::vector<std::pair<double, double>> out;
        const std::string tag = "<text class=\"tick " + axis + "\"";
        for (auto at = svg.find(tag); at != std::string::npos; at = svg.find(tag, at + 1)) {
            const auto begin = svg.find('>', at) + 1;
            const std::string label = svg.substr(begin, svg.find('<', begin) - begin);
            std::size_t used = 0;
            double value = NAN;
            try { value = std::stod(label, &used); } catch (...) {}
            CHECK_MESSAGE(used == label.size(), "tick label not a number: " << label);
            out.emplace_back(std::stod(attribute(svg, at, axis == "x" ? "x" : "y")), value);
        }
        return out;
    };
    // Each tick sits where the scale puts its label's number: positions are affine in the value
    // (in its log on a log scale, where the labels are 1, 2 or 5 times a power of ten, exactly).
    auto check_honest = [](const std::vector<std::pair<double, double>>& t, bool log) {
        if (t.size() < 2) return;
        auto f = [&](double v) { return log ? std::log10(v) : v; };
        const double slope = (t.back().first - t.front().first) / (f(t.back().second) - f(t.front().second));
        for (const auto& [pos, value] : t) {
            if (log) {
                const double m = value / std::pow(10.0, std::floor(std::log10(value) + 1e-9));
                CHECK_MESSAGE((std::abs(m - 1) < 1e-9 || std::abs(m - 2) < 1e-9 || std::abs(m - 5) < 1e-9), value);
            }
            CHECK_MESSAGE(std::abs(t.front().first + slope * (f(value) - f(t.front().second)) - pos) < 0.02,
                          "tick " << value << " at " << pos);
        }
    };

    // Seed, options and version. One self-contained file (the old page was that already).
    CHECK(page.find(std::string("nnprobe <span class=\"version\">") + nnp::version + "</span>") != std::string::npos);
    for (const auto& sec : section_html) {
        for (const auto& [name, value] : detail::option_settings(o))
            CHECK_MESSAGE(sec.find("<dt>" + name + "</dt><dd>" + value + "</dd>") != std::string::npos, name);
        CHECK(sec.find("<dt>run_seed</dt><dd>7</dd>") != std::string::npos);
    }
    for (const char* external : {"<script", "src=\"http", "href=\"http", "<link", "@import", "url("})
        CHECK_MESSAGE(page.find(external) == std::string::npos, external);

    for (std::size_t k = 0; k < sections.size(); ++k) {
        CAPTURE(sections[k].title);
        const std::string& sec = section_html[k];
        // The recorded run's three charts at least.
        CHECK(count(sec, "<svg") >= 3);
        for (auto at = sec.find("<svg"); at != std::string::npos; at = sec.find("<svg", at + 1)) {
            const std::string svg = between(sec, at, "</svg>");
            // Inside a figure of its own, with its legend in that figure, after the chart.
            const auto fig_at = sec.rfind("<figure class=\"chart\"", at);
            const bool in_figure = fig_at != std::string::npos && sec.find("</figure>", fig_at) > at;
            CHECK(in_figure);
            if (in_figure) {
                const auto fig = between(sec, fig_at, "</figure>");
                CHECK(count(fig, "<svg") == 1);
                CHECK(count(fig, "<ul class=\"legend\">") == 1);
                CHECK(fig.find("<ul class=\"legend\">") > fig.find("</svg>"));
            }
            // Real axes: ticks on both, the step on x from 0.
            CHECK(svg.find(">step</text>") != std::string::npos);
            const auto y = ticks(svg, "y"), x = ticks(svg, "x");
            CHECK(y.size() >= 3);
            CHECK(x.size() >= 2);
            check_honest(y, svg.find("data-scale=\"log\"") != std::string::npos);
            check_honest(x, false);
            if (!x.empty()) CHECK(x.front().second == 0);
        }
        // Each failing verdict's own series, every step of it drawn: as a line's points, or as
        // a zero or non-finite marker.
        for (const auto& v : sections[k].verdicts) {
            if (v.passed || v.series.empty()) continue;
            CAPTURE(v.check);
            const auto fig = figure_with_id(sec, "p" + std::to_string(k + 1) + "-" + v.check);
            CHECK(fig.find("data-check=\"" + v.check + "\"") != std::string::npos);
            const auto line = between(fig, fig.find("<g class=\"series\""), "</g>");
            std::size_t drawn = count(line, "<circle class=\"lone\"") + count(line, "class=\"zero\"") +
                                count(line, "class=\"nonfinite\"");
            for (auto at = line.find("<polyline"); at != std::string::npos; at = line.find("<polyline", at + 1))
                drawn += count(attribute(line, at, "points"), ",");
            CHECK(drawn == v.series.size());
        }
    }
    // The bypassed layer: its zero gradients as zero markers in a labelled band, one per step,
    // in the gradient chart and in the chart of the verdict that blames the node.
    const auto& bypassed_report = sections[1];
    std::size_t zero_steps = 0;
    for (const auto& t : bypassed_report.tensors)
        for (double g : t.grad_norm) zero_steps += g == 0;
    CHECK(zero_steps >= bypassed_report.loss.size());
    const auto grad_fig = figure_with_id(section_html[1], "p2-grad");
    CHECK(count(grad_fig, "class=\"zero\"") == zero_steps);
    CHECK(grad_fig.find("\">0</text>") != std::string::npos);
    const auto flow_fig = figure_with_id(section_html[1], "p2-gradients_flow-node");
    CHECK(count(flow_fig, "class=\"zero\"") == zero_steps);
    CHECK(flow_fig.find("class=\"step-mark\"") != std::string::npos);
    // The NaN input: a NaN loss at every step, each a non-finite marker, not a point on a border.
    const auto& nan_report = sections[2];
    REQUIRE(!nan_report.loss.empty());
    for (double l : nan_report.loss) CHECK(std::isnan(l));
    const auto loss_fig = figure_with_id(section_html[2], "p3-loss");
    CHECK(count(loss_fig, "class=\"nonfinite\"") == nan_report.loss.size());
    CHECK(loss_fig.find("\">NaN</text>") != std::string::npos);
    CHECK(count(section_html[0], "class=\"nonfinite\"") == 0);
}

}  // TEST_SUITE

// The determinism check's verdict (probes/nnprobe/probes/determinism.hpp), compiled once here
// rather than once per pipeline.
#include <nnprobe/probes/determinism.hpp>

namespace nnp::detail {

verdict determinism_verdict(const run_bits& first, const run_bits& second, const std::vector<node_info>& info,
                            const std::vector<std::pair<std::size_t, std::string>>& params, std::size_t steps,
                            seed run_seed, function_ref<std::string(std::size_t, std::string&)> unreproducible,
                            std::size_t same_init, std::size_t random) {
    verdict v;
    v.check = "determinism";
    v.threshold = 0;
    const std::string runs = fmt::format("two runs with seed {}", run_seed.value);
    auto fail = [&](std::optional<std::size_t> node, std::optional<std::size_t> step, std::string where,
                    std::string hint) {
        v.node = node;
        v.step = step;
        v.measured = 1;
        v.hint = std::move(hint);
        v.explanation = fmt::format("determinism: {} part {}: {}; {}", runs,
                                    step ? fmt::format("at step {}", *step) : std::string("before the first step"),
                                    where, v.hint);
        return v;
    };
    for (std::size_t q = 0; q < params.size(); ++q)
        if (first.init[q] != second.init[q])
            return fail(params[q].first, std::nullopt,
                        fmt::format("the initial {} differs", detail::tensor_label(info[params[q].first], params[q].second)),
                        "its initialisation draws from something other than the seed it is given "
                        "(std::random_device, the clock, a generator kept between runs)");
    for (std::size_t k = 0; k < steps; ++k) {
        const auto &x = first.steps[k], &y = second.steps[k];
        if (x.labels != y.labels || x.outputs[0] != y.outputs[0]) {
            std::string hint;
            std::string stage = unreproducible(k, hint);
            if (stage.empty()) {
                stage = "the batcher or a transform";
                hint = "each gives the same bits when called twice on the same input, so one keeps state "
                       "between runs (a static, a counter shared by copies)";
            }
            return fail(0, k,
                        fmt::format("{}; the stage that differs is {}",
                                    x.labels != y.labels ? "the batch's labels differ"
                                                         : "the batch fed to the network (node 0, after the "
                                                           "transforms) differs",
                                    stage),
                        hint);
        }
        for (std::size_t i = 1; i < info.size(); ++i)
            if (x.outputs[i] != y.outputs[i])
                return fail(i, k, fmt::format("the output of {} differs, its inputs agree", info[i].label()),
                            "its forward draws unseeded randomness or keeps state between runs; draw from the "
                            "context's generator (ctx.random), which the run seeds");
        if (x.loss != y.loss)
            return fail(info.size() - 1, k, "the loss differs, every node's output agrees",
                        "the loss draws unseeded randomness or keeps state between runs");
        for (std::size_t i = info.size(); i-- > 0;)
            if (x.gradients[i] != y.gradients[i]) {
                std::string by = "the loss";
                if (i + 1 < info.size()) {
                    by.clear();
                    for (const auto& c : info)
                        for (std::size_t in : c.inputs)
                            if (in == i) by += (by.empty() ? "" : " or ") + c.label();
                }
                return fail(i, k,
                            fmt::format("the gradient of {} differs (written by the backward of {}), the forward "
                                        "pass agrees", info[i].label(), by),
                            "that backward draws unseeded randomness or keeps state between runs");
            }
        for (std::size_t q = 0; q < params.size(); ++q)
            if (x.params[q] != y.params[q])
                return fail(params[q].first, k,
                            fmt::format("{} differs after the update, its gradient agrees",
                                        detail::tensor_label(info[params[q].first], params[q].second)),
                            "the optimiser draws unseeded randomness or keeps state between runs");
    }
    const seed other{run_seed.value + 1};
    if (same_init != npos) {
        const auto& t1 = params[same_init];
        v.node = t1.first;
        v.measured = 0;
        v.hint = "the initialisation ignores the seed it is given (a generator with a fixed seed of its "
                 "own): every run starts from the same weights, so seeds vary nothing; draw from the nnp::rng "
                 "that init() is handed";
        v.explanation = fmt::format("determinism: {} has the same initial bits with seed {} and seed {} (and "
                                    "is not constant); {}",
                                    detail::tensor_label(info[t1.first], t1.second), run_seed.value, other.value,
                                    v.hint);
        return v;
    }
    v.passed = true;
    v.explanation = fmt::format(
        "determinism: {} agree bit for bit over {} steps (batches, every node's outputs and gradients, the loss, "
        "{} parameter tensors), and seed {} initialises each of the {} random tensors differently",
        runs, steps, params.size(), other.value, random);
    return v;
}

}  // namespace nnp::detail

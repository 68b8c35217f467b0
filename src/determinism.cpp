// The determinism check (probes/nnprobe/probes/determinism.hpp), compiled once here for float
// and double rather than once per pipeline.
#include <cstring>
#include <optional>

#include <nnprobe/probes/determinism.hpp>

namespace nnp::detail {

// What one run leaves to compare.
struct run_bits {
    std::vector<std::uint64_t> init;  // per parameter tensor
    struct step_bits {
        std::uint64_t labels = 0, loss = 0;
        std::vector<std::uint64_t> outputs, gradients, params;
    };
    std::vector<step_bits> steps;
};
template <class T>
static run_bits record_bits(any_run<T>& run, std::size_t steps) {
    run_bits r;
    for (const auto& p : run.params()) r.init.push_back(bits_hash(p.value, p.size * sizeof(T)));
    for (std::size_t k = 0; k < steps; ++k) {
        auto& s = r.steps.emplace_back();
        const double l = run.step(k, nullptr, [&] {
            for (std::size_t i = 0; i < run.nodes().size(); ++i) {
                s.outputs.push_back(fingerprint_of(run.output(i)));
                s.gradients.push_back(fingerprint_of(run.gradient(i)));
            }
        });
        s.labels = run.last_labels_fingerprint();
        s.loss = bits_hash(&l, sizeof l);
        for (const auto& p : run.params()) s.params.push_back(bits_hash(p.value, p.size * sizeof(T)));
    }
    return r;
}

static bool constant_tensor(const void* data, std::size_t size, std::size_t elem) {
    const auto* b = static_cast<const unsigned char*>(data);
    for (std::size_t i = 1; i < size; ++i)
        if (std::memcmp(b, b + i * elem, elem) != 0) return false;
    return true;
}
// The verdict from two runs' bits. `params`: each parameter tensor's node
// and name; `unreproducible(k, hint)` names the stage (batcher or transform) that does not
// repeat at step k; `same_init`: the first random tensor with the same bits under seeds
// `run_seed` and `run_seed + 1`, or npos; `random`: how many tensors are initialised at random.
static verdict determinism_verdict(const run_bits& first, const run_bits& second, const std::vector<node_info>& info,
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

template <class T>
verdict determinism_on(probe_target<T>& target, const probe_options& o) {
    require_positive(o.determinism_steps, "determinism_steps", "determinism");
    target.draw_subset();
    const std::size_t steps = o.determinism_steps;
    const auto a = target.start(o.run_seed);
    const auto first = record_bits(*a, steps);
    const auto b = target.start_after(*a, o.run_seed);  // the stages as the first run left them
    const auto second = record_bits(*b, steps);
    std::vector<std::pair<std::size_t, std::string>> params;
    for (const auto& q : a->params()) params.emplace_back(q.node, q.name);
    // Another seed, another initialisation.
    const seed other{o.run_seed.value + 1};
    const auto m1 = target.initial_params(o.run_seed), m2 = target.initial_params(other);
    std::size_t random = 0, same = npos;
    for (std::size_t q = 0; q < m1.size(); ++q) {
        const auto &t1 = m1[q], &t2 = m2[q];
        if (constant_tensor(t1.data(), t1.size(), sizeof(T))) continue;  // zeros, ones: by design
        ++random;
        if (same == npos && std::memcmp(t1.data(), t2.data(), t1.size() * sizeof(T)) == 0) same = q;
    }
    return determinism_verdict(
        first, second, a->nodes(), params, steps, o.run_seed,
        [&](std::size_t k, std::string& hint) { return target.unreproducible_stage(k, o.run_seed, hint); }, same,
        random);
}

template verdict determinism_on(probe_target<float>&, const probe_options&);
template verdict determinism_on(probe_target<double>&, const probe_options&);

}  // namespace nnp::detail

#pragma once
// P6 determinism: two runs of the pipeline with the same seed give the same bits, and another
// seed gives another initialisation. The second run starts from the stages the first one left
// behind (its batcher, its fitted transforms), as a second training run in the same program
// would: state a stage keeps between runs (a static, a mutable counter) shows as well as
// unseeded randomness (std::random_device, the clock). Compared bit for bit at every step:
// the initial parameters, the batch's labels, every node's output and gradient, the loss and
// the parameters after the update. On failure it names the first step and the first stage
// that differs: the batcher or a transform (each is then called twice on the same input to
// find which one is not a function of its arguments), a node's forward or backward, the loss,
// or the optimiser. Then, with another seed, every tensor that is initialised at random must
// change: a tensor identical under two seeds (and not constant, as zeros or ones are by
// design) has an initialisation that ignores the seed.
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/core.h>

#include "mini_run.hpp"
#include "options.hpp"
#include "type_names.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
// A 64-bit fingerprint of a buffer's bytes (FNV-1a over 8-byte words): "the same bits".
inline std::uint64_t bits_hash(const void* data, std::size_t bytes) {
    const auto* b = static_cast<const unsigned char*>(data);
    std::uint64_t h = 0xcbf29ce484222325ULL ^ bytes;
    std::size_t i = 0;
    for (; i + 8 <= bytes; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, b + i, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
    }
    for (; i < bytes; ++i) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}
template <class C>
std::uint64_t fingerprint_of(const C& c) {
    return bits_hash(c.data(), c.size() * sizeof(*c.data()));
}
// A batch's input: the features, or the token ids with their mask and row order.
inline std::uint64_t fingerprint_of(const padded_tokens& x) {
    std::uint64_t h = fingerprint_of(x.ids);
    h = h * 31 + fingerprint_of(x.mask.lengths()) + x.mask.length();
    return h * 31 + fingerprint_of(x.row_sample);
}

// What one run leaves to compare.
struct run_bits {
    std::vector<std::uint64_t> init;  // per parameter tensor
    struct step_bits {
        std::uint64_t labels = 0, loss = 0;
        std::vector<std::uint64_t> outputs, gradients, params;
    };
    std::vector<step_bits> steps;
};
template <class T, class P>
run_bits record_bits(pipeline_run<T, P>& run, std::size_t steps) {
    auto& m = run.net();
    run_bits r;
    for (const auto& p : m.params()) r.init.push_back(bits_hash(p.value, p.size * sizeof(T)));
    for (std::size_t k = 0; k < steps; ++k) {
        auto& s = r.steps.emplace_back();
        const double l = run.step(k, nullptr, [&] {
            for (std::size_t i = 0; i < m.nodes().size(); ++i) {
                s.outputs.push_back(fingerprint_of(m.output(i)));
                s.gradients.push_back(fingerprint_of(m.gradient(i)));
            }
        });
        s.labels = fingerprint_of(run.last_batch().y);
        s.loss = bits_hash(&l, sizeof l);
        for (const auto& p : m.params()) s.params.push_back(bits_hash(p.value, p.size * sizeof(T)));
    }
    return r;
}

template <class X, class DS>
void fit_stage(X& x, const DS& ds) {
    if constexpr (requires { x.fit(ds); }) x.fit(ds);
}

// Which of the batcher and the transforms is not a function of its arguments at step k:
// each is called twice on the same input (the transforms also fitted twice, on copies).
// Returns the stage's description and sets the hint; empty when all are.
template <class P>
std::string unreproducible_stage(const P& p, const typename P::dataset_type& ds, std::size_t k, seed s,
                                 std::string& hint) {
    using DS = typename P::dataset_type;
    P q = p;
    batch_of<DS> b1, b2;
    q.batcher(ds, k, s, b1);
    q.batcher(ds, k, s, b2);
    if (fingerprint_of(batch_input(b1)) != fingerprint_of(batch_input(b2)) ||
        fingerprint_of(b1.y) != fingerprint_of(b2.y)) {
        hint = "it gives two different batches for the same data, step and seed: unseeded randomness "
               "(std::random_device, the clock) or state kept between calls (a static, a mutable "
               "counter); make it a pure function of its arguments, drawing from rng(run_seed).fork(step)";
        return fmt::format("the batcher `{}`", readable_type_name<std::remove_cvref_t<decltype(p.batcher)>>());
    }
    std::string found;
    input_type<DS> x = batch_input(b1);
    constexpr std::size_t count = std::tuple_size_v<decltype(p.transforms)>;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        [[maybe_unused]] auto one = [&]<std::size_t t>(std::integral_constant<std::size_t, t>) {
            if (!found.empty()) return;
            auto a = std::get<t>(p.transforms), b = std::get<t>(p.transforms);
            fit_stage(a, ds);
            fit_stage(b, ds);
            input_type<DS> x1 = x, x2 = x, x3 = x;
            a(x1);
            a(x3);
            b(x2);
            const bool calls = fingerprint_of(x1) != fingerprint_of(x3), fits = fingerprint_of(x1) != fingerprint_of(x2);
            if (calls || fits) {
                found = fmt::format("transform {} of {} `{}`", t + 1, count,
                                    readable_type_name<std::remove_cvref_t<decltype(std::get<t>(p.transforms))>>());
                hint = calls ? "it gives two results for the same batch: unseeded randomness "
                               "(std::random_device, the clock) or state kept between calls (a static, a "
                               "mutable counter); draw from an nnp::rng seeded from the run"
                             : "two copies fitted on the same data give two results: its fit draws "
                               "unseeded randomness or keeps state between runs";
            }
            x = std::move(x1);
        };
        (one(std::integral_constant<std::size_t, I>{}), ...);
    }(std::make_index_sequence<count>{});
    return found;
}

inline bool constant_tensor(const void* data, std::size_t size, std::size_t elem) {
    const auto* b = static_cast<const unsigned char*>(data);
    for (std::size_t i = 1; i < size; ++i)
        if (std::memcmp(b, b + i * elem, elem) != 0) return false;
    return true;
}
// The verdict from two runs' bits (src/determinism.cpp). `params`: each parameter tensor's node
// and name; `unreproducible(k, hint)` names the stage (batcher or transform) that does not
// repeat at step k; `same_init`: the first random tensor with the same bits under seeds
// `run_seed` and `run_seed + 1`, or npos; `random`: how many tensors are initialised at random.
verdict determinism_verdict(const run_bits& first, const run_bits& second, const std::vector<node_info>& info,
                            const std::vector<std::pair<std::size_t, std::string>>& params, std::size_t steps,
                            seed run_seed, function_ref<std::string(std::size_t, std::string&)> unreproducible,
                            std::size_t same_init, std::size_t random);
}  // namespace detail

template <class T = float, class P>
verdict determinism(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    detail::require_positive(o.determinism_steps, "determinism_steps", "determinism");
    detail::check_targets_fit_loss<typename P::loss_type>(data);
    const auto sub = detail::probe_subset(data, o);
    const std::size_t steps = o.determinism_steps;
    pipeline_run<T, P> a(p, sub, o.run_seed);
    const auto first = detail::record_bits(a, steps);
    pipeline_run<T, P> b(a.stages(), sub, o.run_seed);  // the stages as the first run left them
    const auto second = detail::record_bits(b, steps);
    std::vector<std::pair<std::size_t, std::string>> params;
    for (const auto& q : a.net().params()) params.emplace_back(q.node, q.name);
    // Another seed, another initialisation.
    const seed other{o.run_seed.value + 1};
    const auto m1 = make_model<T>(p.net, o.run_seed), m2 = make_model<T>(p.net, other);
    std::size_t random = 0, same = detail::npos;
    for (std::size_t q = 0; q < m1.params().size(); ++q) {
        const auto &t1 = m1.params()[q], &t2 = m2.params()[q];
        if (detail::constant_tensor(t1.value, t1.size, sizeof(T))) continue;  // zeros, ones: by design
        ++random;
        if (same == detail::npos && std::memcmp(t1.value, t2.value, t1.size * sizeof(T)) == 0) same = q;
    }
    return detail::determinism_verdict(
        first, second, a.net().nodes(), params, steps, o.run_seed,
        [&](std::size_t k, std::string& hint) { return detail::unreproducible_stage(p, sub, k, o.run_seed, hint); },
        same, random);
}

}  // namespace nnp

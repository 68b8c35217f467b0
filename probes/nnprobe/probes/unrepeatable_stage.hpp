#pragma once
// Stages that do not repeat: a batcher or transform that is not a function of its arguments
// (unseeded randomness, state kept between calls) makes two runs with the same seed differ.
// determinism names it by calling each stage twice on the same input and comparing the bits.
#include <cstdint>
#include <cstring>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <fmt/core.h>

#include <nnprobe/pipeline.hpp>

#include "type_names.hpp"

namespace nnp::detail {

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

template <class X, class DS>
void fit_stage(X& x, const DS& ds) {
    if constexpr (requires { x.fit(ds); }) x.fit(ds);
}

// Which of the batcher and the transforms is not a function of its arguments at step k:
// each is called twice on the same input (the transforms also fitted twice, on copies).
// Returns the stage's description and sets the hint; empty when all are. Cold: it runs only
// after determinism failed, so g++ optimises it for size (less code in every test file).
template <class P>
[[gnu::cold]] std::string unreproducible_stage(const P& p, const typename P::dataset_type& ds, std::size_t k,
                                               seed s, std::string& hint) {
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

}  // namespace nnp::detail

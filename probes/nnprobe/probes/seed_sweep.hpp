#pragma once
// Seed sweeps: a check (or the whole suite) over N consecutive seeds, with the pass rate, the
// failing seeds, their verdicts, and a one-line command that replays one of them.
//
//   auto sweeps = seed_sweep([](const auto& p, const auto& d, const auto& o) { return overfits(p, d, o); },
//                            pipe, data, 50);            // seeds 1..50 (from o.run_seed)
//   sweeps[0].summary()  // "overfits: 48 of 50 seeds pass (96%); failing seeds: 17, 33"
//
// In a doctest program, NNP_SEEDS=50 turns each NNP_PROBE_SUITE case into such a sweep and
// NNP_SEED=17 replays one seed (probes/doctest.hpp).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include "guilty_stage.hpp"
#include "options.hpp"
#include "suite.hpp"
#include "verdict.hpp"

namespace nnp {

struct sweep_result {
    std::string check;
    std::vector<std::uint64_t> seeds;    // every seed run, in order
    std::vector<std::uint64_t> failing;  // the seeds whose verdict failed
    std::vector<verdict> failures;       // their verdicts, in the same order

    double pass_rate() const {
        return seeds.empty() ? 0.0 : double(seeds.size() - failing.size()) / double(seeds.size());
    }
    bool passed() const { return !seeds.empty() && failing.empty(); }
    // "overfits: 48 of 50 seeds pass (96%); failing seeds: 17, 33"
    std::string summary() const {
        std::string s = fmt::format("{}: {} of {} seeds pass ({:.0f}%)", check, seeds.size() - failing.size(),
                                    seeds.size(), 100 * pass_rate());
        if (!failing.empty()) {
            s += "; failing seeds: ";
            for (std::size_t k = 0; k < failing.size(); ++k) s += (k ? ", " : "") + std::to_string(failing[k]);
        }
        return s;
    }
    // The command that replays the first failing seed of a doctest program's test case:
    // "NNP_SEED=17 ./tests -tc='iris-mlp/overfits'" (empty when every seed passed).
    std::string replay(std::string_view program, std::string_view test_case) const {
        if (failing.empty()) return {};
        return fmt::format("NNP_SEED={} {} -tc='{}'", failing.front(), program, test_case);
    }
};

namespace detail {
// The sweep itself, compiled once for every check and pipeline: `run` runs the check on one
// seed's options.
inline std::vector<sweep_result> sweep(const std::function<std::vector<verdict>(const probe_options&)>& run,
                                       std::size_t count, probe_options o) {
    std::vector<sweep_result> out;
    const std::uint64_t first = o.run_seed.value;
    for (std::uint64_t s = first; s < first + count; ++s) {
        o.run_seed = seed{s};
        const auto verdicts = run(o);
        if (out.empty()) out.resize(verdicts.size());
        for (std::size_t k = 0; k < verdicts.size() && k < out.size(); ++k) {
            auto& r = out[k];
            r.check = verdicts[k].check;
            r.seeds.push_back(s);
            if (!verdicts[k].passed) {
                r.failing.push_back(s);
                r.failures.push_back(verdicts[k]);
            }
        }
    }
    return out;
}
}  // namespace detail

// Runs `probe(p, data, o)` (a verdict or the suite's verdicts) for `count` seeds from
// o.run_seed on, through blame_stage; one sweep_result per check, in the probe's order.
template <class Probe, class P, class D>
std::vector<sweep_result> seed_sweep(Probe&& probe, const P& p, const D& data, std::size_t count,
                                     const probe_options& o = {}) {
    return detail::sweep([&](const probe_options& oo) { return detail::as_verdicts(blame_stage(probe, p, data, oo)); },
                         count, o);
}

// The standard suite over `count` seeds: one result per check.
template <class T = float, class P>
std::vector<sweep_result> suite_sweep(const P& p, const typename P::dataset_type& data, std::size_t count,
                                      const probe_options& o = {}) {
    return seed_sweep([](const auto& q, const auto& d, const auto& oo) { return detail::every_check<T>(q, d, oo); },
                      p, data, count, o);
}

}  // namespace nnp

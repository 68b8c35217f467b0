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
#include <string>
#include <string_view>
#include <vector>

#include <nnprobe/function_ref.hpp>

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
    std::string summary() const;
    // The command that replays the first failing seed of a doctest program's test case:
    // "NNP_SEED=17 ./tests -tc='iris-mlp/overfits'" (empty when every seed passed).
    std::string replay(std::string_view program, std::string_view test_case) const;
};

namespace detail {
// The sweep itself, compiled once, in the library (src/seed_sweep.cpp): `run` runs the check
// on one seed's options.
std::vector<sweep_result> sweep(function_ref<std::vector<verdict>(const probe_options&)> run, std::size_t count,
                                probe_options o);
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

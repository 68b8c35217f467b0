#pragma once
// A recorded mini-run through any_run: what mini_run does for a pipeline's own type, done once
// in the library (src/recorded_run.cpp) for the checks that read the recorders; and the warmed
// run the invariance checks start from.
#include <cstddef>
#include <memory>
#include <vector>

#include "any_run.hpp"
#include "options.hpp"
#include "recorder.hpp"

namespace nnp::detail {

// What a recorded run leaves behind (run_record's fields, on runtime views).
template <class T>
struct recorded_run {
    std::vector<double> loss, accuracy;  // per step, from the training forward pass
    node_recorders<T> nodes;
    std::vector<node_info> nodes_info;
    std::size_t steps = 0;
};

// `steps` recorded steps of `run`, keeping every node's output at `snapshot_steps`; with
// `scan_every_step`, every node's gradient is scanned for non-finite values at every step.
template <class T>
recorded_run<T> record_run(any_run<T>& run, std::size_t steps, const std::vector<std::size_t>& snapshot_steps = {},
                           bool scan_every_step = false);
extern template recorded_run<float> record_run(any_run<float>&, std::size_t, const std::vector<std::size_t>&, bool);
extern template recorded_run<double> record_run(any_run<double>&, std::size_t, const std::vector<std::size_t>&,
                                                bool);

// The probes' subset drawn, a run started on it with `o.run_seed`, and `o.invariance_warmup`
// plain training steps taken (running statistics off their initial values): where
// batch_invariance and cross_sample_independence begin.
template <class T>
std::unique_ptr<any_run<T>> warmed_run(probe_target<T>& target, const probe_options& o);
extern template std::unique_ptr<any_run<float>> warmed_run(probe_target<float>&, const probe_options&);
extern template std::unique_ptr<any_run<double>> warmed_run(probe_target<double>&, const probe_options&);

}  // namespace nnp::detail

// A recorded mini-run through any_run (probes/nnprobe/probes/recorded_run.hpp) and the zero
// inputs it shows (zero_input.hpp), for float and double.
#include <algorithm>

#include <nnprobe/probes/recorded_run.hpp>
#include <nnprobe/probes/zero_input.hpp>

namespace nnp::detail {

// The same calls, in the same order, as mini_run with recording on.
template <class T>
recorded_run<T> record_run(any_run<T>& run, std::size_t steps, const std::vector<std::size_t>& snapshot_steps,
                           bool scan_every_step) {
    recorded_run<T> rec;
    rec.loss.reserve(steps);
    rec.accuracy.reserve(steps);
    rec.nodes_info = run.nodes();
    const std::size_t nodes = rec.nodes_info.size();
    rec.nodes.start(run.params(), nodes, steps);
    std::vector<tensor_update> stats;
    std::vector<const matrix<T>*> views(nodes);
    for (std::size_t k = 0; k < steps; ++k) {
        const bool snap = std::find(snapshot_steps.begin(), snapshot_steps.end(), k) != snapshot_steps.end();
        const double l = run.step(k, &stats, [&] {
            for (std::size_t i = 0; i < nodes; ++i) views[i] = &run.output(i);
            rec.nodes.after_backward(views, k, snap);
        });
        for (std::size_t i = 0; i < nodes; ++i) views[i] = &run.gradient(i);
        rec.nodes.after_update(stats, k, l, scan_every_step, views);
        rec.loss.push_back(l);
        rec.accuracy.push_back(run.last_accuracy());
        ++rec.steps;
    }
    return rec;
}

template <class T>
std::unique_ptr<any_run<T>> warmed_run(probe_target<T>& target, const probe_options& o) {
    target.draw_subset();
    auto run = target.start(o.run_seed);
    for (std::size_t k = 0; k < o.invariance_warmup; ++k) run->step(k);
    return run;
}

template <class T>
std::vector<std::size_t> zero_inputs_at(const probe_target<T>& t, seed s, std::size_t node, std::size_t step) {
    // The probes' own recorded run, replayed with a snapshot at `step`.
    const auto run = t.start(s);
    const auto rec = record_run(*run, step + 1, {step});
    const auto activity = rec.nodes.activity();
    std::vector<std::size_t> zero;
    bool all = true;
    for (std::size_t j : rec.nodes_info[node].inputs) {
        bool z = !activity[j]->output_snapshots.empty();
        if (z)
            for (T x : activity[j]->output_snapshots.back().second) z = z && x == T(0);
        if (z) zero.push_back(j);
        all = all && z;
    }
    if (!all) zero.clear();
    return zero;
}

template recorded_run<float> record_run(any_run<float>&, std::size_t, const std::vector<std::size_t>&, bool);
template recorded_run<double> record_run(any_run<double>&, std::size_t, const std::vector<std::size_t>&, bool);
template std::unique_ptr<any_run<float>> warmed_run(probe_target<float>&, const probe_options&);
template std::unique_ptr<any_run<double>> warmed_run(probe_target<double>&, const probe_options&);
template std::vector<std::size_t> zero_inputs_at(const probe_target<float>&, seed, std::size_t, std::size_t);
template std::vector<std::size_t> zero_inputs_at(const probe_target<double>&, seed, std::size_t, std::size_t);

}  // namespace nnp::detail

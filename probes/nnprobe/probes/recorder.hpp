#pragma once
// Recorders, generated per node from the graph's type. A node with parameters records, per
// trainable tensor and per step, the gradient norm and max |grad|, the weight delta and the
// update/weight ratio; every node counts non-finite values in its output and gradient and
// keeps per-sample output snapshots at chosen steps. The parameter series come from the
// optimiser, which measures each tensor in the same pass that updates it. The mini-run driver
// calls the recorders; when recording is off it never does, so off costs nothing.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <xsimd/xsimd.hpp>

#include <nnprobe/flat_tuple.hpp>
#include <nnprobe/model.hpp>
#include <nnprobe/optimizer.hpp>

#include "series.hpp"

namespace nnp {

// What every node records.
template <class T>
struct node_series {
    std::size_t nonfinite_outputs = 0, nonfinite_gradients = 0;
    std::optional<std::size_t> first_nonfinite_step;
    // The same, per direction: the forward pass (outputs) and the backward pass (gradients).
    std::optional<std::size_t> first_nonfinite_output_step, first_nonfinite_gradient_step;
    std::vector<std::pair<std::size_t, matrix<T>>> output_snapshots;  // (step, outputs)
};

namespace detail {
template <class Impl>
concept has_params = requires(Impl& i) { i.for_each_param([](auto&&...) {}); };

// A sum is finite when every term is (or it overflowed, which the exact count below then
// clears): a first pass sums the values in four independent SIMD accumulators, as cheap as
// a scan gets, and only a non-finite sum leads to counting.
template <class T>
std::size_t count_nonfinite(const matrix<T>& m) {
    using B = xsimd::batch<T>;
    constexpr std::size_t L = B::size;
    const T* p = m.data();
    const std::size_t n = m.size();
    B a0(T(0)), a1(T(0)), a2(T(0)), a3(T(0));
    std::size_t i = 0;
    for (; i + 4 * L <= n; i += 4 * L) {
        a0 += B::load_unaligned(p + i);
        a1 += B::load_unaligned(p + i + L);
        a2 += B::load_unaligned(p + i + 2 * L);
        a3 += B::load_unaligned(p + i + 3 * L);
    }
    T lanes[L];
    ((a0 + a1) + (a2 + a3)).store_unaligned(lanes);
    T sum = 0;
    for (T l : lanes) sum += l;
    for (; i < n; ++i) sum += p[i];
    if (std::isfinite(sum)) return 0;
    std::size_t count = 0;
    for (std::size_t j = 0; j < n; ++j) count += !std::isfinite(p[j]);
    return count;
}
}  // namespace detail

// The recorder of node I of graph G at scalar T: its parts depend on the node's type.
template <class T, class G, std::size_t I>
class node_recorder {
public:
    static constexpr bool has_params = detail::has_params<typename detail::impl_of<T, G, I>::type>;

    node_series<T> activity;

    // `steps`: how many steps will be recorded, so recording never reallocates.
    void start(const model<T, G>& m, std::size_t steps) {
        activity = {};
        tensors_.clear();
        if constexpr (has_params)
            for (std::size_t k = 0; k < m.params().size(); ++k)
                if (const auto& p = m.params()[k]; p.node == I) {
                    tensors_.push_back({k, p.name, p.trainable, {}});
                    tensors_.back().steps.reserve(steps);
                }
    }

    // After backward, before the optimiser: non-finite outputs, output snapshots.
    void after_backward(const model<T, G>& m, std::size_t step, bool snapshot) {
        const std::size_t bad = detail::count_nonfinite(m.output(I));
        activity.nonfinite_outputs += bad;
        if (bad && !activity.first_nonfinite_step) activity.first_nonfinite_step = step;
        if (bad && !activity.first_nonfinite_output_step) activity.first_nonfinite_output_step = step;
        if (snapshot) activity.output_snapshots.emplace_back(step, m.output(I));
    }

    // Non-finite gradients. Any of them reaches a parameter gradient or the loss, which the
    // optimiser's measurements already show, so the recorders scan the nodes' gradients only
    // on such a step: half the scanning on every healthy step.
    void scan_gradient(const model<T, G>& m, std::size_t step) {
        const std::size_t bad = detail::count_nonfinite(m.gradient(I));  // empty: 0
        activity.nonfinite_gradients += bad;
        if (bad && (!activity.first_nonfinite_step || *activity.first_nonfinite_step > step))
            activity.first_nonfinite_step = step;
        if (bad && !activity.first_nonfinite_gradient_step) activity.first_nonfinite_gradient_step = step;
    }

    // After the optimiser: what the step did to each of the node's tensors, as the
    // optimiser measured it in its own pass (kept raw; the series are derived on demand).
    void after_update(const std::vector<tensor_update>& stats) {
        for (auto& t : tensors_) t.steps.push_back(stats[t.param]);
    }

    // The node's tensors as series (norms, maxima, update/weight ratio per step).
    std::vector<tensor_series> tensors() const {
        std::vector<tensor_series> all;
        for (const auto& t : tensors_) {
            auto& s = all.emplace_back();
            s.node = I;
            s.tensor = t.name;
            s.trainable = t.trainable;
            for (const tensor_update& u : t.steps) {
                s.grad_norm.push_back(std::sqrt(u.grad_sq));
                s.grad_max.push_back(u.grad_max);
                s.weight_norm.push_back(std::sqrt(u.weight_sq));
                s.weight_max.push_back(u.weight_max);
                s.delta_norm.push_back(std::sqrt(u.delta_sq));
                s.delta_max.push_back(u.delta_max);
                s.update_ratio.push_back(u.weight_sq > 0 ? std::sqrt(u.delta_sq / u.weight_sq) : 0.0);
            }
        }
        return all;
    }

private:
    struct tensor_steps {
        std::size_t param;  // index into model::params()
        std::string name;
        bool trainable;
        std::vector<tensor_update> steps;
    };
    std::vector<tensor_steps> tensors_;  // empty unless has_params
};

// All the recorders of a graph: one per node, each fitted to the node's type.
template <class T, class G, class Seq = std::make_index_sequence<G::size>>
class recorders;
template <class T, class G, std::size_t... I>
class recorders<T, G, std::index_sequence<I...>> {
public:
    detail::flat_tuple<node_recorder<T, G, I>...> nodes{};
    std::vector<tensor_update> stats;  // filled by the optimiser each step
    // Scan every node's gradient on every step, not only where a non-finite value reached the
    // loss or a parameter gradient: a backward may make one that a later node swallows.
    bool scan_every_step = false;

    void start(const model<T, G>& m, std::size_t steps) { (detail::get<I>(nodes).start(m, steps), ...); }
    void after_backward(const model<T, G>& m, std::size_t step, bool snapshot) {
        (detail::get<I>(nodes).after_backward(m, step, snapshot), ...);
    }
    // After the optimiser; `loss` is the step's loss.
    void after_update(const model<T, G>& m, std::size_t step, double loss) {
        (detail::get<I>(nodes).after_update(stats), ...);
        bool blown = !std::isfinite(loss);
        for (const auto& u : stats) blown = blown || !std::isfinite(u.grad_sq);
        if (blown || scan_every_step) (detail::get<I>(nodes).scan_gradient(m, step), ...);
    }

    // Runtime views for the checks.
    std::vector<tensor_series> tensors() const {
        std::vector<tensor_series> all;
        ([&] {
             auto t = detail::get<I>(nodes).tensors();
             all.insert(all.end(), t.begin(), t.end());
         }(),
         ...);
        return all;
    }
    std::vector<const node_series<T>*> activity() const { return {&detail::get<I>(nodes).activity...}; }
};

}  // namespace nnp

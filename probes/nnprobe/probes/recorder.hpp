#pragma once
// Recorders, per node of a model: a node with parameters records, per
// trainable tensor and per step, the gradient norm and max |grad|, the weight delta and the
// update/weight ratio; every node counts non-finite values in its output and gradient and
// keeps per-sample output snapshots at chosen steps. The parameter series come from the
// optimiser, which measures each tensor in the same pass that updates it. The mini-run driver
// calls the recorders; when recording is off it never does, so off costs nothing. They work on
// runtime views of the model's nodes, so their code compiles once per scalar type, in the
// library, not once per graph and node.
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
// How many values of m are infinite or NaN. A first pass looks only for whether any is (one
// integer pass over the bits, in the widest vectors), and only then are they counted.
// (src/recorder.cpp, for float and double.)
template <class T>
std::size_t count_nonfinite(const matrix<T>& m);

// The recorders' work, on runtime views of a model's nodes: compiled once per scalar type in
// the library (src/recorder.cpp), not once per graph and node.
template <class T>
class node_recorders {
public:
    // `steps`: how many steps will be recorded, so recording never reallocates.
    void start(const std::vector<param_ref<T>>& params, std::size_t nodes, std::size_t steps);
    // After backward, before the optimiser: non-finite outputs, output snapshots.
    void after_backward(const std::vector<const matrix<T>*>& outputs, std::size_t step, bool snapshot);
    // After the optimiser: what the step did to each tensor, as the optimiser measured it in
    // its own pass (kept raw; the series are derived on demand). Non-finite gradients: any of
    // them reaches a parameter gradient or the loss, which the optimiser's measurements
    // already show, so the nodes' gradients are scanned only on such a step (or on every step
    // when `every_step`): half the scanning on every healthy step.
    void after_update(const std::vector<tensor_update>& stats, std::size_t step, double loss, bool every_step,
                      const std::vector<const matrix<T>*>& gradients);
    std::vector<tensor_series> tensors() const;
    std::vector<const node_series<T>*> activity() const;

private:
    struct tensor_steps {
        std::size_t node;
        std::size_t param;  // index into model::params()
        std::string name;
        bool trainable;
        std::vector<tensor_update> steps;
    };
    std::vector<node_series<T>> series_;  // per node
    std::vector<tensor_steps> tensors_;    // per trainable tensor, in node order
};
extern template class node_recorders<float>;
extern template class node_recorders<double>;
extern template std::size_t count_nonfinite(const matrix<float>&);
extern template std::size_t count_nonfinite(const matrix<double>&);
}  // namespace detail

// All the recorders of a graph: per node, non-finite counts and snapshots; per trainable
// tensor, the optimiser's measurements.
template <class T, class G>
class recorders {
public:
    std::vector<tensor_update> stats;  // filled by the optimiser each step
    // Scan every node's gradient on every step, not only where a non-finite value reached the
    // loss or a parameter gradient: a backward may make one that a later node swallows.
    bool scan_every_step = false;

    void start(const model<T, G>& m, std::size_t steps) { work_.start(m.params(), G::size, steps); }
    void after_backward(const model<T, G>& m, std::size_t step, bool snapshot) {
        for (std::size_t i = 0; i < G::size; ++i) views_[i] = &m.output(i);
        work_.after_backward(views_, step, snapshot);
    }
    // After the optimiser; `loss` is the step's loss.
    void after_update(const model<T, G>& m, std::size_t step, double loss) {
        for (std::size_t i = 0; i < G::size; ++i) views_[i] = &m.gradient(i);
        work_.after_update(stats, step, loss, scan_every_step, views_);
    }

    // Runtime views for the checks.
    std::vector<tensor_series> tensors() const { return work_.tensors(); }
    std::vector<const node_series<T>*> activity() const { return work_.activity(); }

private:
    detail::node_recorders<T> work_;
    std::vector<const matrix<T>*> views_ = std::vector<const matrix<T>*>(G::size);  // outputs or gradients
};

}  // namespace nnp

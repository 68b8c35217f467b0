// The recorders' work (probes/nnprobe/probes/recorder.hpp), for float and double.
#include <nnprobe/probes/recorder.hpp>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "wide_loops.hpp"

namespace nnp::detail {
namespace {

// Whether any value of the `count` matrices is infinite or NaN, from the bits: a value is not
// finite when its exponent bits are all ones, and then adding the exponent's lowest bit to them
// carries into the sign bit; or-ed over all values, one integer pass the vectoriser takes at any
// width (exact, unlike a sum, which may overflow). Several matrices at once (a node's outputs,
// each step): one call and one reduction for the whole model, where the matrices are small.
template <class T>
NNP_WIDE bool any_nonfinite(const matrix<T>* const* ms, std::size_t count) {
    using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    constexpr U exponent = sizeof(T) == 4 ? U(0x7f800000u) : U(0x7ff0000000000000ull);
    constexpr U lowest = exponent & (~exponent + 1);
    U carried = 0;
    for (std::size_t k = 0; k < count; ++k) {
        const T* __restrict p = ms[k]->data();
        const std::size_t n = ms[k]->size();
        for (std::size_t i = 0; i < n; ++i) {
            U b;
            std::memcpy(&b, p + i, sizeof b);
            carried |= (b & exponent) + lowest;
        }
    }
    return (carried >> (8 * sizeof(U) - 1)) != 0;
}

}  // namespace

template <class T>
std::size_t count_nonfinite(const matrix<T>& m) {
    const matrix<T>* one = &m;
    if (!any_nonfinite(&one, 1)) return 0;
    const T* p = m.data();
    const std::size_t n = m.size();
    std::size_t count = 0;
    for (std::size_t j = 0; j < n; ++j) count += !std::isfinite(p[j]);
    return count;
}

template <class T>
void node_recorders<T>::start(const std::vector<param_ref<T>>& params, std::size_t nodes, std::size_t steps) {
    series_.assign(nodes, node_series<T>{});
    tensors_.clear();
    for (std::size_t i = 0; i < nodes; ++i)
        for (std::size_t k = 0; k < params.size(); ++k)
            if (const auto& p = params[k]; p.node == i) {
                tensors_.push_back({i, k, p.name, p.trainable, {}});
                tensors_.back().steps.reserve(steps);
            }
}

template <class T>
void node_recorders<T>::after_backward(const std::vector<const matrix<T>*>& outputs, std::size_t step,
                                       bool snapshot) {
    // Most steps have no non-finite output anywhere: one scan of all of them shows it.
    const bool any = any_nonfinite(outputs.data(), series_.size());
    if (!any && !snapshot) return;
    for (std::size_t i = 0; i < series_.size(); ++i) {
        auto& activity = series_[i];
        const std::size_t bad = any ? count_nonfinite(*outputs[i]) : 0;
        activity.nonfinite_outputs += bad;
        if (bad && !activity.first_nonfinite_step) activity.first_nonfinite_step = step;
        if (bad && !activity.first_nonfinite_output_step) activity.first_nonfinite_output_step = step;
        if (snapshot) activity.output_snapshots.emplace_back(step, *outputs[i]);
    }
}

template <class T>
void node_recorders<T>::after_update(const std::vector<tensor_update>& stats, std::size_t step, double loss,
                                     bool every_step, const std::vector<const matrix<T>*>& grads) {
    for (auto& t : tensors_) t.steps.push_back(stats[t.param]);
    bool blown = !std::isfinite(loss);
    for (const auto& u : stats) blown = blown || !std::isfinite(u.grad_sq);
    if (!blown && !every_step) return;
    for (std::size_t i = 0; i < series_.size(); ++i) {
        auto& activity = series_[i];
        const std::size_t bad = count_nonfinite(*grads[i]);  // empty: 0
        activity.nonfinite_gradients += bad;
        if (bad && (!activity.first_nonfinite_step || *activity.first_nonfinite_step > step))
            activity.first_nonfinite_step = step;
        if (bad && !activity.first_nonfinite_gradient_step) activity.first_nonfinite_gradient_step = step;
    }
}

template <class T>
std::vector<tensor_series> node_recorders<T>::tensors() const {
    std::vector<tensor_series> all;
    for (const auto& t : tensors_) {
        auto& s = all.emplace_back();
        s.node = t.node;
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

template <class T>
std::vector<const node_series<T>*> node_recorders<T>::activity() const {
    std::vector<const node_series<T>*> all;
    for (const auto& s : series_) all.push_back(&s);
    return all;
}

template class node_recorders<float>;
template class node_recorders<double>;
template std::size_t count_nonfinite(const matrix<float>&);
template std::size_t count_nonfinite(const matrix<double>&);

}  // namespace nnp::detail

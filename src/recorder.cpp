// The recorders' work (probes/nnprobe/probes/recorder.hpp), for float and double.
#include <nnprobe/probes/recorder.hpp>

#include <xsimd/xsimd.hpp>

namespace nnp::detail {

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
    for (std::size_t i = 0; i < series_.size(); ++i) {
        auto& activity = series_[i];
        const std::size_t bad = count_nonfinite(*outputs[i]);
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

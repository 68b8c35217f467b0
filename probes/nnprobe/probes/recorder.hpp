#pragma once
// Recorders, generated per node from the graph's type. A node with parameters records, per
// trainable tensor and per step, the gradient norm and max |grad|, the weight delta and the
// update/weight ratio; every node counts non-finite values in its output and gradient and
// keeps per-sample output snapshots at chosen steps. The mini-run driver calls them; when
// recording is off it never does, so off costs nothing.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <nnprobe/model.hpp>

#include "series.hpp"

namespace nnp {

// What every node records.
template <class T>
struct node_series {
    std::size_t nonfinite_outputs = 0, nonfinite_gradients = 0;
    std::optional<std::size_t> first_nonfinite_step;
    std::vector<std::pair<std::size_t, matrix<T>>> output_snapshots;  // (step, outputs)
};

namespace detail {
template <class Impl>
concept has_params = requires(Impl& i) { i.for_each_param([](auto&&...) {}); };

template <class T>
std::size_t count_nonfinite(const matrix<T>& m) {
    std::size_t n = 0;
    for (const T v : m) n += !std::isfinite(v);
    return n;
}
}  // namespace detail

// The recorder of node I of graph G at scalar T: its parts depend on the node's type.
template <class T, class G, std::size_t I>
class node_recorder {
public:
    static constexpr bool has_params = detail::has_params<typename detail::impl_of<T, G, I>::type>;

    node_series<T> activity;
    std::vector<tensor_series> tensors;  // empty unless has_params

    void start(const model<T, G>& m) {
        activity = {};
        tensors.clear();
        before_.clear();
        if constexpr (has_params)
            for (const auto& p : m.params())
                if (p.node == I) {
                    tensors.push_back({I, p.name, p.trainable, {}, {}, {}, {}, {}, {}, {}});
                    before_.emplace_back(p.size);
                }
    }

    // After backward, before the optimiser: gradients, non-finite values, snapshots.
    void after_backward(const model<T, G>& m, std::size_t step, bool snapshot) {
        const std::size_t bad = detail::count_nonfinite(m.output(I));
        const std::size_t bad_grad = detail::count_nonfinite(m.gradient(I));  // empty: 0
        activity.nonfinite_outputs += bad;
        activity.nonfinite_gradients += bad_grad;
        if ((bad || bad_grad) && !activity.first_nonfinite_step) activity.first_nonfinite_step = step;
        if (snapshot) activity.output_snapshots.emplace_back(step, m.output(I));
        if constexpr (has_params) {
            std::size_t k = 0;
            for (const auto& p : m.params()) {
                if (p.node != I) continue;
                auto& s = tensors[k];
                double g2 = 0, gmax = 0, w2 = 0, wmax = 0;
                for (std::size_t i = 0; i < p.size; ++i) {
                    const double g = p.grad[i], w = p.value[i];
                    g2 += g * g;
                    gmax = std::max(gmax, std::abs(g));
                    w2 += w * w;
                    wmax = std::max(wmax, std::abs(w));
                }
                s.grad_norm.push_back(std::sqrt(g2));
                s.grad_max.push_back(gmax);
                s.weight_norm.push_back(std::sqrt(w2));
                s.weight_max.push_back(wmax);
                std::copy(p.value, p.value + p.size, before_[k].begin());
                ++k;
            }
        }
    }

    // After the optimiser: how much each tensor moved.
    void after_update(const model<T, G>& m) {
        if constexpr (has_params) {
            std::size_t k = 0;
            for (const auto& p : m.params()) {
                if (p.node != I) continue;
                auto& s = tensors[k];
                double d2 = 0, dmax = 0;
                for (std::size_t i = 0; i < p.size; ++i) {
                    const double d = static_cast<double>(p.value[i]) - before_[k][i];
                    d2 += d * d;
                    dmax = std::max(dmax, std::abs(d));
                }
                s.delta_norm.push_back(std::sqrt(d2));
                s.delta_max.push_back(dmax);
                const double w = s.weight_norm.back();
                s.update_ratio.push_back(w > 0 ? std::sqrt(d2) / w : 0.0);
                ++k;
            }
        }
    }

private:
    std::vector<std::vector<T>> before_;
};

// All the recorders of a graph: one per node, each fitted to the node's type.
template <class T, class G, class Seq = std::make_index_sequence<G::size>>
class recorders;
template <class T, class G, std::size_t... I>
class recorders<T, G, std::index_sequence<I...>> {
public:
    std::tuple<node_recorder<T, G, I>...> nodes;

    void start(const model<T, G>& m) { (std::get<I>(nodes).start(m), ...); }
    void after_backward(const model<T, G>& m, std::size_t step, bool snapshot) {
        (std::get<I>(nodes).after_backward(m, step, snapshot), ...);
    }
    void after_update(const model<T, G>& m) { (std::get<I>(nodes).after_update(m), ...); }

    // Runtime views for the checks.
    std::vector<tensor_series> tensors() const {
        std::vector<tensor_series> all;
        (all.insert(all.end(), std::get<I>(nodes).tensors.begin(), std::get<I>(nodes).tensors.end()), ...);
        return all;
    }
    std::vector<const node_series<T>*> activity() const { return {&std::get<I>(nodes).activity...}; }
};

}  // namespace nnp

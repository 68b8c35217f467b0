#pragma once
// The one per-pipeline piece of the standard checks: any_run and probe_target (any_run.hpp)
// implemented over a pipeline_run and the pipeline's types. Everything a check needs from the
// types is here, so that the checks' bodies compile once, in the library.
#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include <nnprobe/gradient_check.hpp>

#include "any_run.hpp"
#include "causality.hpp"
#include "loss_range.hpp"
#include "mini_run.hpp"
#include "options.hpp"
#include "padding_invariance.hpp"
#include "redundant.hpp"
#include "unrepeatable_stage.hpp"

namespace nnp::detail {

// The loss a network at initialisation should show on `ds`: for mse on targets, the targets'
// mean square plus one (predicting 0 with unit spread); else the loss at chance.
template <class P>
double expected_initial_loss(const typename P::dataset_type& ds) {
    using L = typename P::dataset_type::labels_type;
    if constexpr (is_targets<L> && std::is_same_v<typename P::loss_type, mse_t>) {
        double s = 0;
        for (float y : ds.y) s += double(y) * y;
        return s / static_cast<double>(ds.y.size()) + 1.0;
    } else {
        return chance_loss<P>(ds);
    }
}

// The largest sustained update/weight ratio (median over the first steps, per tensor) of a
// healthy run. The usual rule of thumb
// is about 1e-3 per step over long training; the first steps of the probes' fast runs on tiny
// subsets sit higher, and the two optimiser families differ in kind. Adam moves every weight
// by about its learning rate, so its ratio is the learning rate over the weights' scale: at
// most 0.045 on the legitimate configurations of the tests (50 seeds), 0.16 to 5 with a
// learning rate 100x too high. SGD's ratio follows the gradient: up to 0.74 on healthy output
// layers in the first steps (momentum 0.9 at rate 0.1 on mse: the narrowest margin), above 1
// where it diverges. Only tensors initialised away from zero are judged: a tensor that starts
// at zero (a bias) has a huge ratio on its first steps by construction.
template <class Opt>
constexpr double max_update_ratio() {
    return std::is_same_v<Opt, adam> ? 0.1 : 1.0;
}

template <class L>
constexpr unit_kind unit_kind_of() {
    if constexpr (std::is_same_v<L, relu_t>) return unit_kind::relu;
    else if constexpr (std::is_same_v<L, tanh_t>) return unit_kind::tanh;
    else if constexpr (std::is_same_v<L, sigmoid_t>) return unit_kind::sigmoid;
    else return unit_kind::other;
}
template <class G>
constexpr auto unit_kinds() {
    return []<std::size_t... I>(std::index_sequence<I...>) {
        return std::array<unit_kind, G::size>{unit_kind_of<layer_at<G, I>>()...};
    }(std::make_index_sequence<G::size>{});
}

// Row i of the batch's labels, as the loss takes them.
template <class T, class Y>
auto label_row(const Y& y, std::size_t i) {
    if constexpr (requires { y.shape(); }) {
        matrix<T> t({std::size_t{1}, y.shape()[1]});
        for (std::size_t j = 0; j < y.shape()[1]; ++j) t(0, j) = static_cast<T>(y(i, j));
        return t;
    } else {
        return Y{y[i]};
    }
}

// A pipeline_run on the probe subset, as an any_run.
template <class T, class P>
class run_of final : public any_run<T> {
public:
    using DS = typename P::dataset_type;
    using G = typename P::graph_type;
    run_of(const P& p, const DS& sub, seed s) : run_(p, sub, s), sub_(sub) {}

    const P& stages() const { return run_.stages(); }

    double step(std::size_t k, std::vector<tensor_update>* stats, function_ref<void()> after_backward) override {
        return run_.step(k, stats, after_backward);
    }
    void refresh_statistics() override { run_.refresh_statistics(sub_); }
    std::pair<double, double> evaluate() override { return run_.evaluate(sub_); }
    const matrix<T>& infer() override { return run_.infer(inputs_of(sub_)); }
    const matrix<T>& infer(const std::vector<std::size_t>& samples) override {
        return run_.infer(inputs_of(sub_, samples));
    }
    const matrix<T>& forward_train() override { return run_.forward_train(inputs_of(sub_)); }
    const matrix<T>& forward_again(mode m) override { return run_.forward_again(m); }
    void disable_dropout() override { run_.disable_dropout(); }
    void use_subset_statistics() override { run_.use_subset_statistics(); }
    double last_accuracy() const override { return run_.last_accuracy(); }
    std::uint64_t last_labels_fingerprint() const override { return fingerprint_of(run_.last_batch().y); }
    void gather_order(std::size_t n, std::vector<std::size_t>& order) const override {
        const auto in = inputs_of(sub_);
        detail::gather_order(run_.stages().gather, n, input_row_samples(in), order);
    }

    const matrix<T>& output(std::size_t i) const override { return net().output(i); }
    const matrix<T>& gradient(std::size_t i) const override { return net().gradient(i); }
    matrix<T>& output_grad() override { return run_.net().output_grad(); }
    void backward() override { run_.net().backward(); }
    void enable_input_gradient(bool on) override { run_.net().enable_input_gradient(on); }
    const std::vector<param_ref<T>>& params() const override { return net().params(); }
    const std::vector<node_info>& nodes() const override { return net().nodes(); }
    const padding_mask* mask() const override {
        if constexpr (model<T, G>::sequential) return &net().mask();
        else return nullptr;
    }
    // On the input of the last forward_train. A run in float is checked through a copy of its
    // network in double holding its weights (float values are exact in double): central
    // differences need double's precision, and the run stays what the other checks compile.
    gradient_check_result check_nodes_alone(const gradcheck::local_options& lo) override {
        if constexpr (std::is_same_v<T, double>) {
            return gradcheck::check_nodes_alone(run_.net(), lo);
        } else {
            auto copy = make_model<double>(run_.stages().net, net().initial_seed());
            const auto& from = net().params();
            for (std::size_t p = 0; p < from.size(); ++p)
                std::copy_n(from[p].value, from[p].size, copy.params()[p].value);
            matrix<double> x;
            run_.forward_again(copy, x, mode::train);
            return gradcheck::check_nodes_alone(copy, lo);
        }
    }

    model<T, G>& net() { return run_.net(); }
    const model<T, G>& net() const { return run_.net(); }

private:
    pipeline_run<T, P> run_;
    const DS& sub_;
};

// Pipeline `p` checked on `data` with options `o`, as a probe_target.
template <class T, class P>
class pipeline_target final : public probe_target<T> {
public:
    using DS = typename P::dataset_type;
    using G = typename P::graph_type;
    using Loss = typename P::loss_type;

    pipeline_target(const P& p, const DS& data, const probe_options& o) : p_(p), data_(data), o_(o) {}

    void draw_subset() override {
        check_targets_fit_loss<Loss>(data_);
        sub_ = probe_subset(data_, o_);
    }

    std::size_t subset_size() const override { return sub_.size(); }
    std::size_t steps_per_epoch() const override { return detail::steps_per_epoch(p_, sub_, o_.run_seed); }
    std::unique_ptr<any_run<T>> start(seed s) const override { return std::make_unique<run_of<T, P>>(p_, sub_, s); }
    std::unique_ptr<any_run<T>> start_after(const any_run<T>& earlier, seed s) const override {
        return std::make_unique<run_of<T, P>>(static_cast<const run_of<T, P>&>(earlier).stages(), sub_, s);
    }
    std::vector<std::vector<T>> initial_params(seed s) const override {
        const auto m = make_model<T>(p_.net, s);
        std::vector<std::vector<T>> values;
        for (const auto& q : m.params()) values.emplace_back(q.value, q.value + q.size);
        return values;
    }
    std::string unreproducible_stage(std::size_t k, seed s, std::string& hint) const override {
        return detail::unreproducible_stage(p_, sub_, k, s, hint);
    }
    void sample_loss(const matrix<T>& row, std::size_t i, matrix<T>& g) const override {
        p_.loss(row, label_row<T>(labels_of(sub_), i), g);
    }

    bool classification() const override { return DS::is_classification; }
    double chance_loss() const override { return detail::chance_loss<P>(sub_); }
    double loss_floor() const override { return detail::loss_floor<P>(sub_); }
    double expected_initial_loss() const override { return detail::expected_initial_loss<P>(sub_); }
    std::string expected_loss_text() const override {
        constexpr bool on_targets = is_targets<typename DS::labels_type>;
        return on_targets && std::is_same_v<Loss, mse_t>       ? "mse: the targets' mean square + 1"
               : std::is_same_v<Loss, binary_cross_entropy_t>  ? "binary cross-entropy: ln 2"
               : std::is_same_v<Loss, softmax_cross_entropy_t> ? fmt::format("softmax cross-entropy: ln C = ln {}",
                                                                             model<T, G>::output_size)
                                                               : "the targets' variance";
    }
    bool impossible_loss(double l) const override { return detail::impossible_loss<Loss>(l); }
    const char* loss_name() const override { return detail::loss_name<Loss>(); }
    double max_update_ratio() const override { return detail::max_update_ratio<typename P::optimizer_type>(); }
    std::vector<redundant_tensor> redundant(const std::vector<node_info>& nodes) const override {
        return redundant_tensors<G>(nodes);
    }
    std::vector<unit_kind> unit_kinds() const override {
        constexpr auto kinds = detail::unit_kinds<G>();
        return {kinds.begin(), kinds.end()};
    }
    std::vector<std::size_t> unit_widths() const override {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return std::vector<std::size_t>{features_per_row<shape_at<G, I>>()...};
        }(std::make_index_sequence<G::size>{});
    }
    bool token_data() const override { return is_token_dataset<DS>; }
    verdict sequence_check(any_run<T>& run, int which, const std::vector<std::size_t>& rows,
                           seed s) const override {
        if constexpr (is_token_dataset<DS>) {
            auto& m = static_cast<run_of<T, P>&>(run).net();
            return which == 0 ? padding_invariance(m, sub_, rows) : causality(m, sub_, rows, s);
        } else {
            throw error("nnprobe: padding_invariance and causality take token data");
        }
    }

private:
    const P& p_;
    const DS& data_;
    probe_options o_;
    DS sub_;
};

}  // namespace nnp::detail

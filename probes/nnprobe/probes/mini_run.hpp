#pragma once
// The mini-run driver: a seeded run of a pipeline, exactly as the user wrote it (their
// batcher, their transforms), on a small data set, filling the recorders.
#include <cmath>
#include <functional>
#include <limits>
#include <type_traits>
#include <vector>

#include <fmt/core.h>

#include <nnprobe/function_ref.hpp>
#include <nnprobe/pipeline.hpp>

#include "loss_range.hpp"
#include "recorder.hpp"

namespace nnp {

struct run_options {
    seed run_seed{1};
    std::size_t steps = 10;
    bool record = true;                       // fill the recorders (off: plain training)
    std::vector<std::size_t> snapshot_steps;  // steps at which every node's output is kept
};

// A pipeline instantiated at scalar T: model, optimiser state and stages, ready to step.
template <class T, class P>
class pipeline_run {
public:
    using G = typename P::graph_type;
    using DS = typename P::dataset_type;
    // What the network is fed: features, or padded token ids with their mask.
    using input_type = detail::input_type<DS>;

    pipeline_run(const P& p, const DS& train_data, seed s)
        : pipe_(p), data_(train_data), seed_(s), model_(make_model<T>(p.net, s)),
          opt_(p.optimizer) {
        detail::check_consistent(train_data);
        if (train_data.size() == 0) throw data_error("nnprobe: the probe's data set is empty");
        detail::check_targets_fit_loss<typename P::loss_type>(train_data);
        std::apply([&](auto&... t) { (fit(t), ...); }, pipe_.transforms);
    }

    // One training step through the pipeline; returns the loss before the update.
    // `after_backward` runs between backward and the optimiser's update; with `stats` the
    // optimiser measures what it did to each tensor.
    double step(std::size_t k, std::vector<tensor_update>* stats = nullptr, detail::function_ref<void()> after_backward = {}) {
        if (subset_statistics_) refresh_statistics(data_);
        pipe_.batcher(data_, k, seed_, batch_);
        auto& in = detail::batch_input(batch_);
        apply_transforms(in);
        const auto& out = gather(forward_input(in, mode::train), in);
        auto& grad = reorders ? gathered_grad_ : model_.output_grad();
        const double l = static_cast<double>(pipe_.loss(out, target(batch_.y), grad));
        if constexpr (DS::is_classification) last_accuracy_ = accuracy(out, batch_.y);
        if constexpr (reorders) scatter_gradient();
        model_.backward();
        if (after_backward) after_backward();
        if (stats) measured_step(*stats);
        else opt_.step(model_.params(), nullptr);
        return l;
    }
    // Samples in the batch of the last step.
    std::size_t batch_rows() const { return detail::input_rows(detail::batch_input(batch_)); }

    // Precise statistics: running statistics (batch norm's) recomputed from one training-mode
    // pass over `ds` with the current weights, in place of the moving average, which lags
    // behind weights that still move. A no-op for a network without running statistics.
    void refresh_statistics(const DS& ds) {
        if constexpr (has_running_statistics(std::make_index_sequence<G::size>{})) {
            keep_input(detail::inputs_of(ds));
            set_statistics_momentum(std::make_index_sequence<G::size>{}, true);
            set_fixed_statistics(false);
            forward_input(infer_x_, mode::train);
            set_fixed_statistics(subset_statistics_);
            set_statistics_momentum(std::make_index_sequence<G::size>{}, false);
        }
    }

    // Inference through the pipeline's transforms (never its batcher): eval-mode outputs.
    // The transformed input is kept, so the model's node 0 output (and a sequence model's
    // mask) stays valid after. `x`: detail::inputs_of(ds) or of some of its samples.
    const matrix<T>& infer(const input_type& x) {
        keep_input(x);
        return gather(forward_input(infer_x_, mode::eval), infer_x_);
    }
    // A training-mode forward pass through the pipeline's transforms (never its batcher),
    // without a step: every node's output is then the one training differentiates.
    const matrix<T>& forward_train(const input_type& x) {
        keep_input(x);
        return forward_input(infer_x_, mode::train);
    }
    // The network alone (no transforms, no gather) on the input of the last infer or
    // forward_train again, in mode `m`: for checks that backpropagate through it.
    const matrix<T>& forward_again(mode m) { return forward_input(infer_x_, m); }
    // The same, through another model of the network (gradient_check's copy in double);
    // `xbuf` holds the input in the model's scalar type for as long as the model reads it.
    template <class U>
    const matrix<U>& forward_again(model<U, G>& m, matrix<U>& xbuf, mode md) const {
        return forward_on(m, infer_x_, xbuf, md);
    }
    // Loss and accuracy on a whole data set in evaluation mode.
    std::pair<double, double> evaluate(const DS& ds) {
        const auto& out = infer(detail::inputs_of(ds));
        const auto& y = detail::labels_of(ds);
        matrix<T> g;
        const double l = static_cast<double>(pipe_.loss(out, target(y), g));
        double acc = 1.0;
        if constexpr (DS::is_classification) acc = accuracy(out, y);
        return {l, acc};
    }

    model<T, G>& net() { return model_; }
    const model<T, G>& net() const { return model_; }
    // The last step's batch (features after the transforms) and the run's own copy of the
    // stages, in the state the run left them (fitted transforms, any state a stage keeps).
    const batch_of<DS>& last_batch() const { return batch_; }
    const P& stages() const { return pipe_; }
    const DS& data() const { return data_; }
    double last_accuracy() const { return last_accuracy_; }

    // Dropout off (every rate 0), for checks that ask what the network can fit: the
    // recipe for overfitting a tiny set turns regularisation off, since it fights
    // memorisation by design.
    void disable_dropout() {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            auto one = [](auto& impl) {
                if constexpr (requires { impl.rate; impl.mask; }) impl.rate = 0;
            };
            (one(model_.template layer<I>()), ...);
        }(std::make_index_sequence<G::size>{});
    }

    // Batch noise off: normalisation layers (batch norm) train with statistics of the whole
    // training set, recomputed before each step, instead of each batch's. Small batches'
    // statistics are a regulariser like dropout (at batch 8 of 24 samples the training-mode
    // loss stays 5x above what the same weights reach with precise statistics), so checks that
    // ask what the network can fit take them away too.
    void use_subset_statistics() {
        subset_statistics_ = has_running_statistics(std::make_index_sequence<G::size>{});
        set_fixed_statistics(subset_statistics_);
    }

private:
    void set_fixed_statistics(bool on) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            auto one = [&](auto& impl) {
                if constexpr (requires { impl.fixed_statistics; }) impl.fixed_statistics = on;
            };
            (one(model_.template layer<I>()), ...);
        }(std::make_index_sequence<G::size>{});
    }
    template <class Impl>
    static constexpr bool keeps_statistics = requires(Impl& i) { i.running_mean; i.momentum; };
    template <std::size_t... I>
    static constexpr bool has_running_statistics(std::index_sequence<I...>) {
        return (keeps_statistics<typename detail::impl_of<T, G, I>::type> || ...);
    }
    // Momentum 1: the next training pass replaces the running statistics outright.
    template <std::size_t... I>
    void set_statistics_momentum(std::index_sequence<I...>, bool replace) {
        std::size_t k = 0;
        auto one = [&](auto& impl) {
            if constexpr (requires { impl.running_mean; impl.momentum; }) {
                if (replace) {
                    saved_momentum_.resize(k + 1);
                    saved_momentum_[k] = static_cast<double>(impl.momentum);
                    impl.momentum = 1;
                } else {
                    impl.momentum = static_cast<decltype(impl.momentum)>(saved_momentum_[k]);
                }
                ++k;
            }
        };
        (one(model_.template layer<I>()), ...);
    }

    // The optimiser's step, measured. A user's optimiser may ignore the statistics it is
    // handed: then the step is measured here from a copy of the weights taken before it, so
    // the probes work with it (the first step always keeps a copy, to find out).
    void measured_step(std::vector<tensor_update>& stats) {
        const auto& params = model_.params();
        const bool keep = optimiser_measures_ != 1;
        if (keep) {
            before_.resize(params.size());
            for (std::size_t p = 0; p < params.size(); ++p)
                before_[p].assign(params[p].value, params[p].value + params[p].size);
        }
        stats.clear();
        opt_.step(params, &stats);
        if (stats.size() == params.size()) {
            if (optimiser_measures_ < 0) optimiser_measures_ = 1;
            return;
        }
        if (!keep)
            throw error(fmt::format("nnprobe: the optimiser filled {} of {} tensor statistics after "
                                    "filling all of them before", stats.size(), params.size()));
        optimiser_measures_ = 0;
        stats.assign(params.size(), {});
        for (std::size_t p = 0; p < params.size(); ++p) {
            const auto& pr = params[p];
            tensor_update& u = stats[p];
            for (std::size_t i = 0; i < pr.size; ++i) {
                const double g = pr.grad[i], w = before_[p][i], d = double(pr.value[i]) - w;
                u.grad_sq += g * g;
                u.weight_sq += w * w;
                u.delta_sq += d * d;
                u.grad_max = std::isnan(g) ? g : std::max(u.grad_max, std::abs(g));
                u.weight_max = std::max(u.weight_max, std::abs(w));
                u.delta_max = std::isnan(d) ? d : std::max(u.delta_max, std::abs(d));
            }
        }
    }

    static constexpr bool reorders = !std::is_same_v<typename P::gather_type, in_order_t>;

    // The pipeline's output gathering: rows reordered as its gather stage says, for the
    // input `in` (which sample each of its rows holds).
    const matrix<T>& gather(const matrix<T>& out, const input_type& in) {
        if constexpr (!reorders) return out;  // the common case costs nothing
        const std::size_t rows = out.shape()[0], cols = out.shape()[1];
        detail::gather_order(pipe_.gather, rows, detail::input_row_samples(in), order_);
        if (order_.size() != rows)
            throw error(fmt::format("nnprobe: the pipeline's gather stage gave {} rows for a batch of {}",
                                    order_.size(), rows));
        detail::ensure_shape(gathered_, rows, cols);
        for (std::size_t i = 0; i < rows; ++i) {
            if (order_[i] >= rows)
                throw error(fmt::format("nnprobe: the pipeline's gather stage maps sample {} to output "
                                        "row {} of a batch of {}", i, order_[i], rows));
            std::copy_n(out.data() + order_[i] * cols, cols, gathered_.data() + i * cols);
        }
        return gathered_;
    }
    // d loss / d output: each gathered row's gradient goes back to the row it came from.
    void scatter_gradient() {
        auto& g = model_.output_grad();
        g.fill(T(0));
        const std::size_t cols = g.shape()[1];
        for (std::size_t i = 0; i < order_.size(); ++i)
            for (std::size_t j = 0; j < cols; ++j) g(order_[i], j) += gathered_grad_(i, j);
    }
    template <class X>
    void fit(X& t) {
        if constexpr (requires { t.fit(data_); }) t.fit(data_);
    }
    void apply_transforms(input_type& x) const {
        std::apply([&](const auto&... t) { (t(x), ...); }, pipe_.transforms);
    }
    // `x` transformed into the kept input buffer.
    void keep_input(const input_type& x) {
        if constexpr (std::is_same_v<input_type, matrix<float>>) {
            detail::ensure_shape(infer_x_, x.shape()[0], x.shape()[1]);
            detail::copy_into(infer_x_, x);
        } else {
            infer_x_ = x;
        }
        apply_transforms(infer_x_);
    }
    // The model's forward pass on an input: the features, or the token ids with their mask.
    // The model keeps references to `in` (node 0's output, the mask): `in` is a member.
    const matrix<T>& forward_input(const input_type& in, mode m) { return forward_on(model_, in, xbuf_, m); }
    template <class U>
    static const matrix<U>& forward_on(model<U, G>& net, const input_type& in, matrix<U>& xbuf, mode m) {
        const matrix<U>& x = detail::as_scalar(detail::input_values(in), xbuf);
        if constexpr (std::is_same_v<input_type, matrix<float>>) return net.forward(x, m);
        else return net.forward(x, in.mask, m);
    }
    template <class Y>
    decltype(auto) target(const Y& y) { return detail::as_scalar(y, ybuf_); }

    std::remove_const_t<P> pipe_;  // a copy: transforms fitted here, never in the user's pipeline
    const DS& data_;
    seed seed_;
    model<T, G> model_;
    optimizer_state<typename P::optimizer_type, T> opt_;
    batch_of<DS> batch_;
    input_type infer_x_;
    std::vector<std::size_t> order_;
    matrix<T> gathered_, gathered_grad_;
    matrix<T> xbuf_, ybuf_;
    double last_accuracy_ = 0;
    int optimiser_measures_ = -1;  // does the optimiser fill the statistics? -1: not known yet
    std::vector<std::vector<T>> before_;
    std::vector<double> saved_momentum_;
    bool subset_statistics_ = false;
};

namespace detail {
// Steps in one epoch of the pipeline's batcher on `ds`: the subset's size over the size of
// its first batch, rounded up (1 for full batches).
template <class P>
std::size_t steps_per_epoch(const P& p, const typename P::dataset_type& ds, seed s) {
    batch_of<typename P::dataset_type> b;
    p.batcher(ds, 0, s, b);
    const std::size_t rows = input_rows(batch_input(b));
    if (rows == 0) throw error("nnprobe: the pipeline's batcher gave an empty batch at step 0");
    return (ds.size() + rows - 1) / rows;
}
}  // namespace detail

// What a mini-run leaves behind.
template <class T, class G>
struct run_record {
    std::vector<double> loss, accuracy;    // per step, from the training forward pass
    recorders<T, G> nodes;                 // generated per node
    std::vector<nnp::node_info> nodes_info;
    std::size_t steps = 0;
};

// Run `opts.steps` steps of pipeline `p` on `train_data`, recording when asked.
template <class T = float, class P>
run_record<T, typename P::graph_type> mini_run(const P& p, const typename P::dataset_type& train_data,
                                               const run_options& opts = {}) {
    pipeline_run<T, P> run(p, train_data, opts.run_seed);
    run_record<T, typename P::graph_type> rec;
    rec.loss.reserve(opts.steps);
    rec.accuracy.reserve(opts.steps);
    rec.nodes_info = run.net().nodes();
    if (opts.record) rec.nodes.start(run.net(), opts.steps);
    for (std::size_t k = 0; k < opts.steps; ++k) {
        double l;
        if (opts.record) {
            const bool snap = std::find(opts.snapshot_steps.begin(), opts.snapshot_steps.end(), k) !=
                              opts.snapshot_steps.end();
            l = run.step(k, &rec.nodes.stats, [&] { rec.nodes.after_backward(run.net(), k, snap); });
            rec.nodes.after_update(run.net(), k, l);
        } else {
            l = run.step(k);
        }
        rec.loss.push_back(l);
        rec.accuracy.push_back(run.last_accuracy());
        ++rec.steps;
    }
    return rec;
}

}  // namespace nnp

#pragma once
// P5 cross_sample_independence: the loss of sample i does not depend on the input of any other
// sample j. Backpropagated one sample's loss at a time (the loss of sample i alone, on the
// output row the pipeline's gather stage gives it), the gradient with respect to every other
// sample's rows must be exactly zero, at every node: every library layer treats each row on
// its own, so the products and sums of a clean backward give exact zeros there, and no
// tolerance is needed. In evaluation mode no node may mix samples; in training mode only the
// nodes that declare batch coupling (`static constexpr bool couples_batch = true`, batch norm)
// may. Up to 8 samples per mode are backpropagated, spread over the batch from sample 0 (a
// backward pass each: a mixing node leaks from every sample it mixes, so more add cost, not
// findings). The node named is the one where the mixing shows: its own gradient is sample i's
// alone, the gradient it passes back to its input is not (a reshape or transpose across the
// batch axis, a mask or a normalisation across samples). Training steps first, as in
// batch_invariance, so that running statistics are not trivial.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "mini_run.hpp"
#include "options.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
// Does any row of `g` other than `keep` hold a non-zero (or NaN) value? The largest such
// magnitude and its row, when one does.
template <class T>
std::optional<std::pair<std::size_t, double>> leak_outside(const matrix<T>& g, std::size_t keep) {
    if (g.dimension() != 2 || g.size() == 0) return std::nullopt;
    const std::size_t rows = g.shape()[0], cols = g.shape()[1];
    std::optional<std::pair<std::size_t, double>> worst;
    for (std::size_t r = 0; r < rows; ++r) {
        if (r == keep) continue;
        const T* p = g.data() + r * cols;
        for (std::size_t c = 0; c < cols; ++c)
            if (p[c] != T(0)) {
                const double a = std::isnan(p[c]) ? INFINITY : std::abs(static_cast<double>(p[c]));
                if (!worst || a > worst->second) worst = std::pair{r, a};
            }
    }
    return worst;
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
}  // namespace detail

template <class T = float, class P>
verdict cross_sample_independence(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    detail::check_targets_fit_loss<typename P::loss_type>(data);
    const auto sub = detail::probe_subset(data, o);
    pipeline_run<T, P> run(p, sub, o.run_seed);
    for (std::size_t k = 0; k < o.invariance_warmup; ++k) run.step(k);  // non-trivial running stats
    auto& m = run.net();
    m.enable_input_gradient(true);
    const auto in = detail::inputs_of(sub);
    run.infer(in);  // the transforms, as the pipeline applies them
    const std::size_t n = m.output(0).shape()[0], cols = m.output().shape()[1];
    const auto& info = m.nodes();
    const std::size_t samples = std::min<std::size_t>(n, 8);
    std::vector<std::size_t> order;
    detail::gather_order(run.stages().gather, n, detail::input_row_samples(in), order);

    verdict v;
    v.check = "cross_sample_independence";
    v.threshold = 0;
    matrix<T> row({std::size_t{1}, cols}), g;
    // One mode: every sample's loss alone, backward, and where its gradient leaks.
    auto independent = [&](mode md) -> bool {
        const char* mode_text = md == mode::eval ? "evaluation" : "training";
        const matrix<T>& out = run.forward_again(md);
        for (std::size_t k = 0; k < samples; ++k) {
            const std::size_t i = k * n / samples;
            if (order.size() != n || order[i] != i) {
                v.measured = 1;
                v.hint = "the gather stage hands sample i another sample's output row";
                v.explanation = fmt::format(
                    "cross_sample_independence: the loss of sample {} is computed on output row {}, which "
                    "the input of sample {} produces: the pipeline's gather stage mixes the samples; {}",
                    i, order.at(i), order.at(i), v.hint);
                return false;
            }
            std::copy_n(out.data() + i * cols, cols, row.data());
            p.loss(row, detail::label_row<T>(detail::labels_of(sub), i), g);
            bool zero = true;
            for (T e : g) zero = zero && e == T(0);
            if (zero) g.fill(T(1));  // a sample already fitted exactly: any direction will do
            auto& dy = m.output_grad();
            dy.fill(T(0));
            std::copy_n(g.data(), cols, dy.data() + i * cols);
            m.backward();
            std::vector<std::optional<std::pair<std::size_t, double>>> leak(info.size());
            for (std::size_t k = 0; k < info.size(); ++k) leak[k] = detail::leak_outside(m.gradient(k), i);
            // The node where it shows: its own gradient clean, an input's not, and every other
            // consumer of that input clean too (else the leak may come through that one).
            for (const auto& node : info) {
                if (node.index == 0 || leak[node.index]) continue;
                if (md == mode::train && node.couples_batch) continue;
                for (std::size_t in : node.inputs) {
                    if (!leak[in]) continue;
                    bool others_clean = true;
                    for (const auto& c : info)
                        for (std::size_t j : c.inputs)
                            if (j == in && leak[c.index]) others_clean = false;
                    if (!others_clean) continue;
                    v.node = node.index;
                    v.measured = leak[in]->second;
                    v.hint = md == mode::eval
                                 ? "does it reshape or transpose across the batch axis, or mask or normalise "
                                   "across samples (batch statistics in evaluation)?"
                                 : "only nodes that declare batch coupling (`static constexpr bool couples_batch "
                                   "= true`, as batch norm does) may mix samples in training: does it reshape "
                                   "or transpose across the batch axis, or mask or normalise across samples?";
                    v.explanation = fmt::format(
                        "cross_sample_independence: in {} mode the loss of sample {} has a gradient with respect "
                        "to another sample's values (row {} of the gradient of {}: max |g| = {:.3g}, exactly 0 "
                        "when samples are independent); the samples mix at {}: the gradient it receives is sample "
                        "{}'s alone, the one it passes back is not; {}",
                        mode_text, i, leak[in]->first, in == 0 ? std::string("the input") : info[in].label(),
                        v.measured, node.label(), i, v.hint);
                    return false;
                }
            }
            if (md == mode::eval && leak[0]) {  // not localised (cannot happen with per-node buffers)
                v.node = 0;
                v.measured = leak[0]->second;
                v.explanation = fmt::format(
                    "cross_sample_independence: in evaluation mode the loss of sample {} has a gradient with "
                    "respect to the input of sample {} (max |g| = {:.3g})",
                    i, leak[0]->first, v.measured);
                return false;
            }
        }
        return true;
    };
    if (!independent(mode::eval) || !independent(mode::train)) return v;
    std::size_t coupling = 0;
    for (const auto& node : info) coupling += node.couples_batch;
    v.passed = true;
    v.explanation = fmt::format(
        "cross_sample_independence: the loss of each of {} of {} samples, backpropagated alone, has an exactly "
        "zero gradient for every other sample at every node, in evaluation and in training{}",
        samples, n, coupling ? fmt::format(" (where {} node{} declaring batch coupling may mix them)", coupling,
                                  coupling > 1 ? "s" : "")
                    : std::string());
    return v;
}

}  // namespace nnp

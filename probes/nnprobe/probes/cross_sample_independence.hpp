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
// After sample i's loss alone was backpropagated (in mode `md`), with every node's gradient:
// does it stay in sample i's rows? When not, `v` names the node where the samples mix and
// false is returned (src/cross_sample_independence.cpp, for float and double).
template <class T>
bool gradient_stays_in_sample(const std::vector<const matrix<T>*>& gradients, const std::vector<node_info>& info,
                              mode md, std::size_t i, verdict& v);
extern template bool gradient_stays_in_sample(const std::vector<const matrix<float>*>&,
                                              const std::vector<node_info>&, mode, std::size_t, verdict&);
extern template bool gradient_stays_in_sample(const std::vector<const matrix<double>*>&,
                                              const std::vector<node_info>&, mode, std::size_t, verdict&);
// The verdict's texts: the gather stage hands sample i output row `row`; every sample passed.
void gather_mixes_samples(verdict& v, std::size_t i, std::size_t row);
void samples_independent(verdict& v, const std::vector<node_info>& info, std::size_t samples, std::size_t n);

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
    std::vector<const matrix<T>*> gradients(info.size());
    // One mode: every sample's loss alone, backward, and where its gradient leaks.
    auto independent = [&](mode md) -> bool {
        const matrix<T>& out = run.forward_again(md);
        for (std::size_t k = 0; k < samples; ++k) {
            const std::size_t i = k * n / samples;
            if (order.size() != n || order[i] != i) {
                detail::gather_mixes_samples(v, i, order.at(i));
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
            for (std::size_t k = 0; k < info.size(); ++k) gradients[k] = &m.gradient(k);
            if (!detail::gradient_stays_in_sample(gradients, info, md, i, v)) return false;
        }
        return true;
    };
    if (!independent(mode::eval) || !independent(mode::train)) return v;
    detail::samples_independent(v, info, samples, n);
    return v;
}

}  // namespace nnp

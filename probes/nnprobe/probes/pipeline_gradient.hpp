#pragma once
// gradient_check: the pipeline's own network, instantiated in double, after a few training
// steps of its own pipeline, on a training-mode forward pass of the probe subset through its
// transforms: every node checked alone on the inputs it received there, each parameter
// gradient and each input gradient its backward gives against central differences of its
// forward. Each node is judged on its own code and inputs, so the node named is the one whose
// backward is wrong, a user layer's input gradient included (a whole-model comparison sees a
// wrong input gradient only in the nodes upstream of it).
//
// Tolerance: |analytic - numeric| <= 1e-6 + 1e-3 max(|analytic|, |one-sided differences|)
// with h = 1e-6 max(1, |v|) in double: rounding and truncation errors are below 1e-8, real
// backward bugs (a sign, a transpose, a missing factor or term) are wrong by the order of the
// gradient itself. Entries within h of a kink (relu at 0, tied max-pool inputs) have one-sided
// differences that disagree; they are skipped and counted. Tensors above 48 entries are
// sampled, 48 entries each (seeded), which keeps the check cheap on convolutions.
#include <fmt/core.h>

#include <nnprobe/gradient_check.hpp>

#include "mini_run.hpp"
#include "options.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
// Training steps before the check: parameters that start at structured values (biases 0,
// gains 1) would hide a backward that uses them wrongly.
inline constexpr std::size_t gradient_check_warmup = 3;
// The verdict on a pipeline's checked nodes, from the result of check_nodes_alone after the
// warm-up steps whose losses are `series` (src/gradient_check.cpp).
verdict gradient_check_verdict(const gradient_check_result& r, const std::vector<node_info>& nodes,
                               const gradcheck::local_options& lo, std::vector<double> series);
}  // namespace detail

// T is accepted for symmetry with the other checks; the check always runs in double.
template <class T = float, class P>
verdict gradient_check(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    detail::check_targets_fit_loss<typename P::loss_type>(data);
    const auto sub = detail::probe_subset(data, o);
    pipeline_run<double, P> run(p, sub, o.run_seed);
    verdict v;
    for (std::size_t k = 0; k < detail::gradient_check_warmup; ++k) v.series.push_back(run.step(k));
    run.forward_train(detail::inputs_of(sub));
    detail::gradcheck::local_options lo;
    lo.random_seed = o.run_seed.value;
    const auto r = detail::gradcheck::check_nodes_alone(run.net(), lo);
    return detail::gradient_check_verdict(r, run.net().nodes(), lo, std::move(v.series));
}

}  // namespace nnp

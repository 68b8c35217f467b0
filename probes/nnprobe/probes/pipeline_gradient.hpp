#pragma once
// gradient_check: the pipeline's own network after a few training steps of its own pipeline
// (in the checks' scalar type, float by default), copied into double with the run's weights,
// on a training-mode forward pass of the probe subset through its transforms: every node
// checked alone on the inputs it received there, each parameter
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
#include <nnprobe/gradient_check.hpp>

#include "options.hpp"
#include "pipeline_target.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
// Training steps before the check: parameters that start at structured values (biases 0,
// gains 1) would hide a backward that uses them wrongly.
inline constexpr std::size_t gradient_check_warmup = 3;
// The check on any pipeline (src/gradient_check.cpp): the run's check_nodes_alone does the
// comparisons in double.
template <class T>
verdict gradient_check_on(probe_target<T>& target, const probe_options& o);
extern template verdict gradient_check_on(probe_target<float>&, const probe_options&);
extern template verdict gradient_check_on(probe_target<double>&, const probe_options&);
}  // namespace detail

// The warm-up steps run in T, as the other checks do (the target and run they use, one
// instantiation per pipeline); the comparisons always run in double.
template <class T = float, class P>
verdict gradient_check(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    detail::pipeline_target<T, P> t(p, data, o);
    return detail::gradient_check_on(t, o);
}

}  // namespace nnp

#pragma once
// P4 batch_invariance: in evaluation mode a sample's output is the same in its batch, alone,
// and in a shuffled batch, within a tolerance from the scalar type (2^10 ulp, scaled by the
// node's largest output: the matrix products of a batch and of one row may sum in another
// order). On failure it names the sample and the first node where the outputs diverge.
// On token data it also pads the batch further than its longest sample (padding_invariance:
// every node compared over each sample's real positions) and, for a causal model, checks
// that no position sees the tokens after it (causality).
#include "options.hpp"
#include "pipeline_target.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
// The check on any pipeline (src/batch_invariance.cpp, for float and double).
template <class T>
verdict batch_invariance_on(probe_target<T>& target, const probe_options& o);
extern template verdict batch_invariance_on(probe_target<float>&, const probe_options&);
extern template verdict batch_invariance_on(probe_target<double>&, const probe_options&);
}  // namespace detail

template <class T = float, class P>
verdict batch_invariance(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    detail::pipeline_target<T, P> t(p, data, o);
    return detail::batch_invariance_on(t, o);
}

}  // namespace nnp

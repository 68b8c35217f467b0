#pragma once
// P2 gradients_flow: every trainable tensor gets a non-zero gradient in every epoch, and the
// loss decreases as a trend over the epochs (least-squares slope below zero and the last
// third lower on average than the first third), not just between two noisy steps. The
// trend is judged on each epoch's mean training loss, a quantity comparable from point to
// point whatever the batch size (with full batches an epoch is one step; with one sample
// per step, single-sample losses are not comparable with each other).
#include "options.hpp"
#include "pipeline_target.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
// The check on any pipeline (src/gradients_flow.cpp, for float and double).
template <class T>
verdict gradients_flow_on(probe_target<T>& t, const probe_options& o);
extern template verdict gradients_flow_on(probe_target<float>&, const probe_options&);
extern template verdict gradients_flow_on(probe_target<double>&, const probe_options&);
}  // namespace detail

template <class T = float, class P>
verdict gradients_flow(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    detail::pipeline_target<T, P> t(p, data, o);
    return detail::gradients_flow_on(t, o);
}

}  // namespace nnp

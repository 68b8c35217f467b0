#pragma once
// P7 finite: no NaN or Inf in any node's output (forward) or gradient (backward), nor in the
// loss, over the first steps of a recorded mini-run. Any non-finite value fails: there is no
// tolerance to tune. On failure it names where the first one appears: the step, the direction
// and the stage that made it from finite values. Within a step the forward pass comes first,
// and the lowest-numbered node with a non-finite output is the one that made it (its inputs
// come before it and are finite); then the loss; then the backward pass, where gradients flow
// from the output back, so the highest-numbered node with a non-finite gradient received it
// from a consumer whose own gradient is finite: that consumer's backward made it.
#include "options.hpp"
#include "pipeline_target.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
// The check on any pipeline (src/finite.cpp, for float and double).
template <class T>
verdict finite_on(probe_target<T>& target, const probe_options& o);
extern template verdict finite_on(probe_target<float>&, const probe_options&);
extern template verdict finite_on(probe_target<double>&, const probe_options&);
}  // namespace detail

template <class T = float, class P>
verdict finite(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    detail::pipeline_target<T, P> t(p, data, o);
    return detail::finite_on(t, o);
}

}  // namespace nnp

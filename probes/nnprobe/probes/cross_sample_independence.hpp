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
#include "options.hpp"
#include "pipeline_target.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
// The check on any pipeline (src/cross_sample_independence.cpp, for float and double).
template <class T>
verdict cross_sample_independence_on(probe_target<T>& target, const probe_options& o);
extern template verdict cross_sample_independence_on(probe_target<float>&, const probe_options&);
extern template verdict cross_sample_independence_on(probe_target<double>&, const probe_options&);
}  // namespace detail

template <class T = float, class P>
verdict cross_sample_independence(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    detail::pipeline_target<T, P> t(p, data, o);
    return detail::cross_sample_independence_on(t, o);
}

}  // namespace nnp

#pragma once
// P6 determinism: two runs of the pipeline with the same seed give the same bits, and another
// seed gives another initialisation. The second run starts from the stages the first one left
// behind (its batcher, its fitted transforms), as a second training run in the same program
// would: state a stage keeps between runs (a static, a mutable counter) shows as well as
// unseeded randomness (std::random_device, the clock). Compared bit for bit at every step:
// the initial parameters, the batch's labels, every node's output and gradient, the loss and
// the parameters after the update. On failure it names the first step and the first stage
// that differs: the batcher or a transform (each is then called twice on the same input to
// find which one is not a function of its arguments), a node's forward or backward, the loss,
// or the optimiser. Then, with another seed, every tensor that is initialised at random must
// change: a tensor identical under two seeds (and not constant, as zeros or ones are by
// design) has an initialisation that ignores the seed.
#include "options.hpp"
#include "pipeline_target.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
// The check on any pipeline (src/determinism.cpp, for float and double).
template <class T>
verdict determinism_on(probe_target<T>& target, const probe_options& o);
extern template verdict determinism_on(probe_target<float>&, const probe_options&);
extern template verdict determinism_on(probe_target<double>&, const probe_options&);
}  // namespace detail

template <class T = float, class P>
verdict determinism(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    detail::pipeline_target<T, P> t(p, data, o);
    return detail::determinism_on(t, o);
}

}  // namespace nnp

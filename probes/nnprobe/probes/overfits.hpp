#pragma once
// P1 overfits: a healthy pipeline memorises a tiny stratified subset (every class a few
// samples). Passing: evaluation loss below 5% of the loss at chance (ln C for softmax
// cross-entropy; measured above the least loss reachable, which is not 0 for binary
// cross-entropy on soft targets) and, for classification, 100% accuracy, within the budget
// of epochs. Past
// the budget the run goes on while the loss keeps falling (by 1% or more over the latter half
// of the run), up to 8x the budget: slow but steady learners (plain SGD on sigmoid units, a
// subset with two near-identical samples of different classes) get there; a loss that has
// stopped falling (a mask, shuffled labels) fails at the budget as before.
//
// Regularisation is off in this run, the usual recipe for overfitting a tiny set, since it
// works against memorisation by design: dropout's rate is 0 (a dropout net on regression
// targets stalls at twice the threshold), and batch norm normalises with statistics of the
// whole subset, recomputed before each step, instead of each batch's (with mini-batches; a
// full batch's statistics are the subset's already): the statistics of
// reshuffled batches of 8 are a noise that plain SGD cannot average away (on regression the
// training-mode loss stalls at 5x the threshold, and at 2x after the learning rate is cut to a
// hundredth; with subset statistics the same seeds memorise within the budget).
//
// Before each evaluation, running statistics are recomputed from the subset with the
// current weights ("precise" statistics), not the moving average, which lags behind
// weights still moving. A loss below the least value the loss can take (a negative
// cross-entropy: targets out of range) fails, whatever its size.
#include "options.hpp"
#include "pipeline_target.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
// The check on any pipeline (src/overfits.cpp, for float and double).
template <class T>
verdict overfits_on(probe_target<T>& t, const probe_options& o);
extern template verdict overfits_on(probe_target<float>&, const probe_options&);
extern template verdict overfits_on(probe_target<double>&, const probe_options&);
}  // namespace detail

template <class T = float, class P>
verdict overfits(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    detail::pipeline_target<T, P> t(p, data, o);
    return detail::overfits_on(t, o);
}

}  // namespace nnp

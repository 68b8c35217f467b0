#pragma once
// unit_health: the units of the network stay usable and the first steps do not blow up.
//   - a learning rate that makes the loss jump or diverge: the evaluation loss on the subset
//     (running statistics recomputed) after each of the first detail::health_epochs epochs,
//     against the loss at initialisation: not finite, or above detail::max_loss_jump (2x) of
//     it and still above it after the last epoch. A spike that training undoes is not a
//     failure: per-sample SGD on the legitimate regression spikes to 2.09x on 1 seed of 50 and
//     ends at 0.36x; Adam at ten times the digits residual MLP's rate jumps 2.0x to 5.2x and
//     memorises within 10 steps. A rate too high that the loss survives shows in the
//     sustained update/weight ratio, all_layers_change's bound (it flags that Adam rate on 20
//     of 20 seeds): it is not repeated here.
//   - dead or saturated units: a unit whose local derivative stays below 2% of its maximum on
//     every sample of the subset passes (almost) no gradient: a relu unit never active (its
//     derivative 0), a tanh unit with |y| > 0.99 (1 - y^2 < 0.02), a sigmoid unit with y
//     outside about [0.005, 0.995] (y (1 - y) < 0.02 / 4). Judged per activation node, at
//     initialisation and after the run: a relu node fails when more than half of its units are
//     dead (an inactive relu entry is normal, a unit inactive on every sample is not; healthy
//     runs: at most 18%, the digits CNN's second relu), a tanh or sigmoid node when more than
//     half of its activations are saturated (about 1% under Glorot at initialisation).
//   - vanishing or exploding gradients: the RMS weight gradient of the first parameter node
//     over the last one's, at initialisation, outside [1e-3, 1e3] (healthy: 0.045 to 2.3; six
//     sigmoid layers initialised at N(0, 0.1): 3e-6 to 7e-6).
#include "options.hpp"
#include "pipeline_target.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
// The check on any pipeline (src/unit_health.cpp, for float and double).
template <class T>
verdict unit_health_on(probe_target<T>& target, const probe_options& o);
extern template verdict unit_health_on(probe_target<float>&, const probe_options&);
extern template verdict unit_health_on(probe_target<double>&, const probe_options&);
}  // namespace detail

template <class T = float, class P>
verdict unit_health(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    detail::pipeline_target<T, P> t(p, data, o);
    return detail::unit_health_on(t, o);
}

}  // namespace nnp

#pragma once
// P3 all_layers_change: after each optimiser step, every parameter tensor has moved (by more
// than one ulp of its largest weight); none receives a vanishing share of the update (its
// mean |dW|/|W| below 1/1000 of the median tensor's); and none is updated violently step
// after step (its median |dW|/|W| above detail::max_update_ratio: a learning rate too high,
// which a tiny subset may still memorise through). Tensors the graph shows to be redundant
// (a dense bias feeding batch_norm) are left out, with a note.
#include "options.hpp"
#include "pipeline_target.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
// The check on any pipeline (src/all_layers_change.cpp, for float and double).
template <class T>
verdict all_layers_change_on(probe_target<T>& target, const probe_options& o);
extern template verdict all_layers_change_on(probe_target<float>&, const probe_options&);
extern template verdict all_layers_change_on(probe_target<double>&, const probe_options&);
}  // namespace detail

template <class T = float, class P>
verdict all_layers_change(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    detail::pipeline_target<T, P> t(p, data, o);
    return detail::all_layers_change_on(t, o);
}

}  // namespace nnp

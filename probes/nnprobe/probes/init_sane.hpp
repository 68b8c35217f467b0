#pragma once
// P8 init_sane: the initialisation is sane, in scale and in symmetry. Three faults a tiny subset
// can memorise through:
//   - weights at a huge scale: the loss at initialisation, in evaluation mode over the
//     subset, is far above its expected value (ln C for softmax cross-entropy, ln 2 for
//     binary, for mse the targets' mean square plus one: predicting 0 with unit spread);
//   - an activation scale that explodes or vanishes layer by layer: each parameterised mixing
//     node's (dense, conv) output RMS over its input's, at initialisation, outside
//     [1/10, 10] (detail::max_layer_gain);
//   - symmetric units: two units of an affine-mixing layer (dense) still compute the same
//     function after a few training steps, so the layer is as narrow as one unit
//     (constant initialisation). Units constant over the subset are not compared.
// Each failure says which it is: a scale fault or a symmetry fault.
#include "options.hpp"
#include "pipeline_target.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
// The check on any pipeline (src/init_sane.cpp, for float and double).
template <class T>
verdict init_sane_on(probe_target<T>& target, const probe_options& o);
extern template verdict init_sane_on(probe_target<float>&, const probe_options&);
extern template verdict init_sane_on(probe_target<double>&, const probe_options&);
}  // namespace detail

template <class T = float, class P>
verdict init_sane(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    detail::pipeline_target<T, P> t(p, data, o);
    return detail::init_sane_on(t, o);
}

}  // namespace nnp

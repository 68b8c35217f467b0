#pragma once
// The standard suite: the four seed checks on one pipeline, each its own verdict.
#include <vector>

#include "all_layers_change.hpp"
#include "batch_invariance.hpp"
#include "gradients_flow.hpp"
#include "overfits.hpp"

namespace nnp {

template <class T = float, class P>
std::vector<verdict> probe_suite(const P& p, const typename P::dataset_type& data,
                                 const probe_options& o = {}) {
    return {overfits<T>(p, data, o), gradients_flow<T>(p, data, o), all_layers_change<T>(p, data, o),
            batch_invariance<T>(p, data, o)};
}

}  // namespace nnp

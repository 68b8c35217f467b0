#pragma once
// Optimiser loops out of line (src/adam.cpp), on the processor's widest vectors.
#include <cstddef>

namespace nnp::detail {

// Adam's plain update of a float tensor: m = b1 m + c1 g, v = b2 v + c2 g g,
// w = w - (step m / (sqrt(v) + eps) + decay w), element by element, the operations in that
// order (same bits as optimizer.hpp's loop). False, doing nothing, when the processor has no
// vectors wider than the baseline: the caller's loop runs instead.
bool adam_update_wide(float* w, const float* g, float* m, float* v, std::size_t n, float b1, float b2, float c1,
                      float c2, float step, float eps, float decay);

}  // namespace nnp::detail

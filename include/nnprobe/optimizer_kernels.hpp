#pragma once
// Optimiser loops out of line (src/adam.cpp), compiled once at float and double.
#include <cstddef>

namespace nnp {
struct tensor_update;  // optimizer.hpp
}

namespace nnp::detail {

// Adam's settings for one tensor and one step, the bias corrections folded into the step
// size and epsilon.
struct adam_coefficients {
    double b1, b2, step, eps_hat, decay;
};

// Adam's update of one tensor of n elements: m = b1 m + c1 g, v = b2 v + c2 g g,
// w = w - (step m / (sqrt(v) + eps) + decay w), element by element, the operations in that
// order (the same bits at every vector width). A frozen tensor (trainable false) is left as
// it is. With stats, what the step did is measured in the same pass.
void adam_update(float* w, const float* g, float* m, float* v, std::size_t n, bool trainable,
                 const adam_coefficients& k, tensor_update* stats);
void adam_update(double* w, const double* g, double* m, double* v, std::size_t n, bool trainable,
                 const adam_coefficients& k, tensor_update* stats);

}  // namespace nnp::detail

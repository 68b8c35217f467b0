#pragma once
// The per-tensor series a run records: light, so reports can take them without the engine.
#include <cstddef>
#include <string>
#include <vector>

namespace nnp {

// The series of one trainable tensor over a run.
struct tensor_series {
    std::size_t node = 0;
    std::string tensor;            // "weight", "bias", ...
    bool trainable = true;
    std::vector<double> grad_norm, grad_max;
    std::vector<double> delta_norm, delta_max;
    std::vector<double> weight_norm, weight_max;  // before the update
    std::vector<double> update_ratio;             // |dW| / |W| (0 when |W| is 0)
};

}  // namespace nnp

#pragma once
// The per-head loops of self-attention, out of line (src/attention.cpp): scores, masked
// softmax and weighted values forward; their gradients backward. The projections around them
// are matrix products (blas.hpp). Same bits as the plain loops on every processor.
#include <cstddef>

namespace nnp::detail {

// A batch of `rows` samples padded to `len` positions of `width` features; sample b's first
// lengths[b] positions are real. Causal: position i attends to positions <= i only.
struct attention_dims {
    std::size_t rows, len, width, heads;
    bool causal;
    const std::size_t* lengths;

    // The kernels keep the weights key by key, the queries side by side in whole vectors
    // (the padded length): a key's weights for every query are one vector.
    static constexpr std::size_t query_lanes = 16;
    std::size_t padded_len() const { return (len + query_lanes - 1) / query_lanes * query_lanes; }
    std::size_t weights_size() const { return rows * heads * len * padded_len(); }
    // Where query i's weight on key j of sample b, head h is.
    std::size_t weight_at(std::size_t b, std::size_t h, std::size_t i, std::size_t j) const {
        return ((b * heads + h) * len + j) * padded_len() + i;
    }
};

// qkv: rows * len positions of [q | k | v] (3 * width each). att: weights_size() weights
// (zero for the keys a query may not see). heads: rows * len x width, the heads side by side.
void attention_forward(const attention_dims& d, const float* qkv, float* att, float* heads);
void attention_forward(const attention_dims& d, const double* qkv, double* att, double* heads);
// Adds d loss / d qkv (from d loss / d heads) into dqkv, which the caller zeroes.
void attention_backward(const attention_dims& d, const float* qkv, const float* att, const float* dheads,
                        float* dqkv);
void attention_backward(const attention_dims& d, const double* qkv, const double* att, const double* dheads,
                        double* dqkv);

// The exponential the softmax uses, one value at a time: in float a polynomial that the kernels
// evaluate for a whole vector of queries at once with the same bits (within 2 ulp of exp; 0
// below -87.3, where exp is under float's smallest normal); in double std::exp.
float softmax_exp(float x);
double softmax_exp(double x);

}  // namespace nnp::detail

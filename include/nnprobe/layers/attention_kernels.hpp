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
};

// qkv: rows * len positions of [q | k | v] (3 * width each). att: per sample and head, len x
// len weights (zero for the keys a query may not see). heads: rows * len x width, the heads
// side by side.
void attention_forward(const attention_dims& d, const float* qkv, float* att, float* heads);
void attention_forward(const attention_dims& d, const double* qkv, double* att, double* heads);
// Adds d loss / d qkv (from d loss / d heads) into dqkv, which the caller zeroes.
void attention_backward(const attention_dims& d, const float* qkv, const float* att, const float* dheads,
                        float* dqkv);
void attention_backward(const attention_dims& d, const double* qkv, const double* att, const double* dheads,
                        double* dqkv);

}  // namespace nnp::detail

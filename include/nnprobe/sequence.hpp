#pragma once
// Sequences: per-sample T x D nodes whose length T is the batch's (its longest sample) and
// whose width D is static, and the padding mask that says which positions of each sample
// are real. The type of a node says whether its position axis is padded, so the checks can
// refuse an operation that reduces over padded positions without the mask (C8); the mask
// itself is a runtime value that travels with the batch and reaches every layer through
// nnp::context.
//
// Storage: a batch of sequences is a matrix of B rows and T * D columns, position-major
// (sample b, position t, feature d at column t * D + d). Samples are padded on the right:
// sample b's real positions are 0 .. length_of(b) - 1.
#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "error.hpp"
#include "shape.hpp"

namespace nnp {

// A sequence node's per-sample shape: at most MaxLen positions of Dim features. Padded:
// whether samples of a batch may be shorter than the batch (the mask matters).
template <std::size_t MaxLen, std::size_t Dim, bool Padded = true>
struct sequence {
    static_assert(MaxLen > 0 && Dim > 0, "nnprobe: a sequence needs a positive length and width");
    static constexpr std::size_t rank = 2;
    static constexpr std::size_t max_length = MaxLen;
    static constexpr std::size_t width = Dim;
    static constexpr bool padded = Padded;
    static constexpr std::size_t size = MaxLen * Dim;  // the most a sample can hold
    static constexpr std::size_t dims[rank] = {MaxLen, Dim};
};

namespace detail {
template <class S>
inline constexpr bool is_sequence = false;
template <std::size_t M, std::size_t D, bool P>
inline constexpr bool is_sequence<sequence<M, D, P>> = true;

// Features per position: a sequence's width; a flat shape's size.
template <class S>
constexpr std::size_t features_per_row() {
    if constexpr (is_sequence<S>) return S::width;
    else return S::size;
}

// What a per-position layer of width N makes of S: shape<N>, or T x N for a sequence.
template <class S, std::size_t N>
struct per_position_t {
    using type = shape<N>;
};
template <std::size_t M, std::size_t D, bool P, std::size_t N>
struct per_position_t<sequence<M, D, P>, N> {
    using type = sequence<M, N, P>;
};
template <class S, std::size_t N>
using per_position = typename per_position_t<S, N>::type;
}  // namespace detail

// Which positions of each sample in a batch are real: sample r has length_of(r) real
// positions (at least 1), then padding up to length(), the batch's length.
class padding_mask {
public:
    padding_mask() = default;
    // Padded to the longest sample.
    explicit padding_mask(std::vector<std::size_t> lengths)
        : padding_mask(lengths, lengths.empty() ? 0 : *std::max_element(lengths.begin(), lengths.end())) {}
    // Padded to `length` (at least the longest sample): extra padding.
    padding_mask(std::vector<std::size_t> lengths, std::size_t length) { assign(std::move(lengths), length); }
    // Every sample real over all `length` positions: no padding.
    static padding_mask full(std::size_t rows, std::size_t length) {
        return padding_mask(std::vector<std::size_t>(rows, length), length);
    }

    void assign(std::vector<std::size_t> lengths, std::size_t length) {
        for (std::size_t r = 0; r < lengths.size(); ++r)
            if (lengths[r] == 0 || lengths[r] > length)
                throw error("nnprobe: padding_mask: sample " + std::to_string(r) + " has length " +
                            std::to_string(lengths[r]) + ", outside [1, " + std::to_string(length) +
                            "] (the batch's length)");
        lengths_ = std::move(lengths);
        length_ = length;
    }

    std::size_t rows() const { return lengths_.size(); }
    std::size_t length() const { return length_; }
    std::size_t length_of(std::size_t r) const { return lengths_[r]; }
    bool real(std::size_t r, std::size_t t) const { return t < lengths_[r]; }
    const std::vector<std::size_t>& lengths() const { return lengths_; }
    bool has_padding() const {
        for (std::size_t n : lengths_)
            if (n != length_) return true;
        return false;
    }

private:
    std::vector<std::size_t> lengths_;
    std::size_t length_ = 0;
};

}  // namespace nnp

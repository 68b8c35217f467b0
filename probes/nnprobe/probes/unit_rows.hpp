#pragma once
// A node's output as units over rows: a flat node's row per sample holds its units; a
// sequence node's row per sample holds T positions of `width` units each, so each real
// position of each sample is a row of the node's units (padded positions are left out: no
// sample holds them). The checks that compare or count units (symmetric units, dead units)
// read a node's outputs through this.
#include <cstddef>
#include <vector>

#include <nnprobe/sequence.hpp>
#include <nnprobe/tensor.hpp>

namespace nnp::detail {

template <class T>
struct unit_rows {
    std::size_t units = 0;
    std::vector<const T*> rows;  // each points at `units` values
    T at(std::size_t row, std::size_t unit) const { return rows[row][unit]; }
};

// A node's output `out`, of `width` units per position, as rows of units; `mask`: a sequence
// model's (null otherwise).
template <class T>
unit_rows<T> units_of(const matrix<T>& out, std::size_t width, const padding_mask* mask) {
    const std::size_t samples = out.shape()[0], cols = out.shape()[1];
    unit_rows<T> u;
    u.units = width;
    if (mask && cols != u.units) {  // a sequence node: positions of the batch's length
        const std::size_t length = cols / u.units;
        for (std::size_t r = 0; r < samples; ++r)
            for (std::size_t t = 0; t < length && mask->real(r, t); ++t)
                u.rows.push_back(out.data() + r * cols + t * u.units);
        return u;
    }
    u.units = cols;
    for (std::size_t r = 0; r < samples; ++r) u.rows.push_back(out.data() + r * cols);
    return u;
}

}  // namespace nnp::detail

#pragma once
// Token data in a pipeline: the batch a sequence pipeline's batcher fills, padded to the
// batch's own longest sample and carrying its mask, and the length-bucketing batcher with
// the gather stage that puts its outputs back in the samples' order.
//
//   pipeline(data<tokens<32, 16>, classes<2>>, net, softmax_cross_entropy, adam{})  // full batches
//       .batches(shuffled_batches{.size = 32})                                     // padded mini-batches
//       .batches(length_buckets{.size = 32}).gathered(sample_order)               // bucketed by length
#include <algorithm>
#include <cstddef>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "error.hpp"
#include "random.hpp"
#include "sequence.hpp"
#include "tensor.hpp"
#include "token_data.hpp"

namespace nnp {

template <class DS>
struct batch_of;

// What a sequence network is fed for a batch: the token ids of its samples, one row each,
// padded with the padding id 0 to the longest of them (T = the ids' columns); the mask (each
// row's real length); and which of the batch's samples each row holds. The labels of a batch
// are in its samples' order; the rows are too (row_sample the identity) unless the batcher
// reorders them, as length_buckets sorts them by length: then the pipeline's gather stage
// (sample_order) must put the outputs back in the samples' order.
struct padded_tokens {
    matrix<float> ids;
    padding_mask mask;
    std::vector<std::size_t> row_sample;  // row r holds sample row_sample[r] of the batch
    std::size_t rows() const { return ids.shape()[0]; }
};

// One batch of a token data set, in buffers reused from step to step.
template <std::size_t V, std::size_t M, std::size_t C>
struct batch_of<token_dataset<V, M, C>> : padded_tokens {
    std::vector<int> y;  // sample i's label, in the samples' order
};

namespace detail {

// Pads the samples `rows` of `ds` (in that order) into `out`, to the longest of them or to
// `length` when longer; row k holds sample k.
template <std::size_t V, std::size_t M, std::size_t C>
void pad_rows(const token_dataset<V, M, C>& ds, std::span<const std::size_t> rows, padded_tokens& out,
              std::size_t length = 0) {
    if (rows.empty()) throw data_error("nnprobe: a batch of token sequences needs at least one sample");
    std::vector<std::size_t> lengths(rows.size());
    for (std::size_t k = 0; k < rows.size(); ++k) {
        if (rows[k] >= ds.size())
            throw data_error(fmt::format("nnprobe: sample {} is past the data set's {} samples", rows[k], ds.size()));
        lengths[k] = ds.tokens[rows[k]].size();
        length = std::max(length, lengths[k]);
    }
    ensure_shape(out.ids, rows.size(), length);
    out.ids.fill(0.0f);
    for (std::size_t k = 0; k < rows.size(); ++k) {
        const auto& seq = ds.tokens[rows[k]];
        for (std::size_t t = 0; t < seq.size(); ++t) out.ids(k, t) = static_cast<float>(seq[t]);
    }
    out.mask.assign(std::move(lengths), length);
    out.row_sample.resize(rows.size());
    std::iota(out.row_sample.begin(), out.row_sample.end(), std::size_t{0});
}

// The batch of the samples `rows`, in that order, padded to the longest of them.
template <std::size_t V, std::size_t M, std::size_t C>
void fill_batch(const token_dataset<V, M, C>& ds, std::span<const std::size_t> rows,
                batch_of<token_dataset<V, M, C>>& out) {
    pad_rows(ds, rows, out);
    out.y.resize(rows.size());
    for (std::size_t k = 0; k < rows.size(); ++k) out.y[k] = ds.labels[rows[k]];
}

// The network's input for the whole data set in order, or for the samples `rows` (in that
// order), padded to the longest of them or to `length` when longer.
template <std::size_t V, std::size_t M, std::size_t C>
padded_tokens inputs_of(const token_dataset<V, M, C>& ds) {
    std::vector<std::size_t> all(ds.size());
    std::iota(all.begin(), all.end(), std::size_t{0});
    padded_tokens in;
    pad_rows(ds, all, in);
    return in;
}
template <std::size_t V, std::size_t M, std::size_t C>
padded_tokens inputs_of(const token_dataset<V, M, C>& ds, const std::vector<std::size_t>& rows,
                        std::size_t length = 0) {
    padded_tokens in;
    pad_rows(ds, rows, in, length);
    return in;
}
template <std::size_t V, std::size_t M, std::size_t C>
const std::vector<int>& labels_of(const token_dataset<V, M, C>& ds) {
    return ds.labels;
}

}  // namespace detail

// Mini-batches of samples of similar length, so that a batch holds little padding. Every
// epoch the samples are shuffled from the run's seed (as shuffled_batches does), cut into
// pools of `pool` batches, each pool sorted by length and cut into batches, and the batches
// dealt in a shuffled order; a last partial batch is dropped. Within a batch the rows are
// sorted longest first (as packed sequences want) while the labels stay in the batch's sample
// order (the order of the epoch's shuffle): the pipeline needs the gather stage sample_order
// to give each sample its own output. A pure function of (data, step, seed).
struct length_buckets {
    std::size_t size = 16;  // samples per batch
    std::size_t pool = 4;   // batches per pool sorted by length

    template <std::size_t V, std::size_t M, std::size_t C>
    void operator()(const token_dataset<V, M, C>& ds, std::size_t step, seed s,
                    batch_of<token_dataset<V, M, C>>& out) const {
        if (size == 0) throw data_error("nnprobe: length_buckets: the batch size must be at least 1");
        if (pool == 0) throw data_error("nnprobe: length_buckets: a pool holds at least 1 batch");
        if (ds.size() == 0) throw data_error("nnprobe: length_buckets: the data set is empty");
        const std::size_t n = ds.size(), b = std::min(size, n), per_epoch = n / b, used = per_epoch * b;
        const rng epoch = rng(s).fork(step / per_epoch);
        std::vector<std::size_t> order(n), position(n);
        std::iota(order.begin(), order.end(), std::size_t{0});
        rng(epoch).shuffle(order.begin(), order.end());
        for (std::size_t k = 0; k < n; ++k) position[order[k]] = k;
        auto shorter = [&](std::size_t a, std::size_t c) { return ds.tokens[a].size() < ds.tokens[c].size(); };
        for (std::size_t p = 0; p < used; p += pool * b)
            std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(p),
                             order.begin() + static_cast<std::ptrdiff_t>(std::min(used, p + pool * b)), shorter);
        std::vector<std::size_t> batches(per_epoch);
        std::iota(batches.begin(), batches.end(), std::size_t{0});
        epoch.fork(1).shuffle(batches.begin(), batches.end());
        const std::size_t first = batches[step % per_epoch] * b;
        // The batch's samples in the epoch's order; its rows longest first.
        std::vector<std::size_t> samples(order.begin() + static_cast<std::ptrdiff_t>(first),
                                         order.begin() + static_cast<std::ptrdiff_t>(first + b));
        std::sort(samples.begin(), samples.end(), [&](std::size_t a, std::size_t c) { return position[a] < position[c]; });
        std::vector<std::size_t> rows(b);
        std::iota(rows.begin(), rows.end(), std::size_t{0});
        std::stable_sort(rows.begin(), rows.end(), [&](std::size_t a, std::size_t c) {
            return ds.tokens[samples[a]].size() > ds.tokens[samples[c]].size();
        });
        std::vector<std::size_t> row_samples(b);
        for (std::size_t r = 0; r < b; ++r) row_samples[r] = samples[rows[r]];
        detail::pad_rows(ds, row_samples, out);
        out.row_sample = rows;  // row r holds the batch's sample rows[r]
        out.y.resize(b);
        for (std::size_t i = 0; i < b; ++i) out.y[i] = ds.labels[samples[i]];
    }
};

// The gather stage for batches whose rows are reordered (length_buckets): output row
// order[i] is sample i's, from the batch's row_sample.
struct sample_order_t {
    void operator()(const std::vector<std::size_t>& row_sample, std::vector<std::size_t>& order) const {
        const std::size_t n = row_sample.size();
        order.assign(n, n);
        for (std::size_t r = 0; r < n; ++r) {
            const std::size_t i = row_sample[r];
            if (i >= n || order[i] != n)
                throw error(fmt::format("nnprobe: sample_order: row {} holds sample {}: the batch's row_sample "
                                        "is not a permutation of its {} samples",
                                        r, i, n));
            order[i] = r;
        }
    }
};
inline constexpr sample_order_t sample_order{};

}  // namespace nnp

#pragma once
// Token-sequence data sets: each sample a list of token ids in [1, Vocab) (0 is the padding
// id) of length 1 to MaxLen, with a class label in [0, C). Vocabulary and maximum length are
// in the type, so they can be checked against the network. Batches are padded to their own
// longest sample and carry the padding mask.
//
//   auto train = nnp::load_token_sequences<32, 16, 2>("train.txt");  // "label id id id ..."
//   auto task  = nnp::order_task<32, 16>(1000, nnp::seed{1});        // built-in, seeded
//   for (const auto& rows : nnp::sequence_batch_order(task.size(), 32, nnp::seed{2})) {
//       auto b = nnp::pad_batch<float>(task, rows);   // b.tokens, b.mask, b.labels
//       model.forward(b.tokens, b.mask);
//   }
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "dataset.hpp"
#include "error.hpp"
#include "random.hpp"
#include "sequence.hpp"
#include "tensor.hpp"

namespace nnp {

// The data a sequence pipeline takes, as a type: samples of 1 to MaxLen token ids in
// [1, Vocab). `data<tokens<Vocab, MaxLen>, classes<C>>` is a token_dataset<Vocab, MaxLen, C>.
template <std::size_t Vocab, std::size_t MaxLen>
struct tokens {
    static_assert(Vocab >= 2 && MaxLen >= 1, "nnprobe: tokens<Vocab, MaxLen>: the vocabulary "
                                             "holds the padding id 0 and a token; MaxLen >= 1");
    static constexpr std::size_t vocabulary = Vocab;
    static constexpr std::size_t max_length = MaxLen;
};

template <std::size_t Vocab, std::size_t MaxLen, std::size_t Classes>
struct token_dataset {
    static_assert(Vocab >= 2, "nnprobe: token_dataset: the vocabulary holds the padding id 0 "
                              "and at least one token");
    static_assert(MaxLen >= 1 && Classes >= 1, "nnprobe: token_dataset: MaxLen and Classes >= 1");
    static constexpr std::size_t vocabulary = Vocab;
    static constexpr std::size_t max_length = MaxLen;
    static constexpr std::size_t classes = Classes;
    // As a pipeline's data (what dataset<F, L> states too).
    using features_type = nnp::tokens<Vocab, MaxLen>;
    using labels_type = nnp::classes<Classes>;
    using y_type = std::vector<int>;
    static constexpr bool is_classification = true;

    std::vector<std::vector<std::uint32_t>> tokens;  // sample i's ids, in order
    std::vector<int> labels;                          // sample i's class

    std::size_t size() const { return labels.size(); }
};

namespace detail {
template <class DS>
inline constexpr bool is_token_dataset = false;
template <std::size_t V, std::size_t M, std::size_t C>
inline constexpr bool is_token_dataset<token_dataset<V, M, C>> = true;
template <class F>
inline constexpr bool is_tokens = false;
template <std::size_t V, std::size_t M>
inline constexpr bool is_tokens<tokens<V, M>> = true;

// A hand-built data set may disagree with its own type; check before indexing into it.
template <std::size_t V, std::size_t M, std::size_t C>
void check_consistent(const token_dataset<V, M, C>& ds) {
    if (ds.tokens.size() != ds.labels.size())
        throw data_error("token_dataset: " + std::to_string(ds.tokens.size()) + " sequences but " +
                         std::to_string(ds.labels.size()) + " labels");
    for (std::size_t i = 0; i < ds.tokens.size(); ++i) {
        const auto& seq = ds.tokens[i];
        if (seq.empty() || seq.size() > M)
            throw data_error("token_dataset: sample " + std::to_string(i) + " has " +
                             std::to_string(seq.size()) + " tokens, outside [1, " + std::to_string(M) +
                             "] (the maximum length)");
        for (std::size_t t = 0; t < seq.size(); ++t)
            if (seq[t] == 0 || seq[t] >= V)
                throw data_error("token_dataset: sample " + std::to_string(i) + " position " +
                                 std::to_string(t) + " holds id " + std::to_string(seq[t]) +
                                 ", outside the vocabulary [1, " + std::to_string(V) + ")" +
                                 (seq[t] == 0 ? " (0 is the padding id)" : ""));
        if (ds.labels[i] < 0 || static_cast<std::size_t>(ds.labels[i]) >= C)
            throw data_error("token_dataset: sample " + std::to_string(i) + " has label " +
                             std::to_string(ds.labels[i]) + ", out of range [0, " + std::to_string(C) +
                             ")");
    }
}

struct token_lines {
    std::vector<std::vector<std::uint32_t>> tokens;
    std::vector<int> labels;
};
// Parses "label id id ..." lines (src/tokens.cpp); every rejection names file, line, column.
token_lines read_token_lines(const std::string& path, std::size_t vocabulary,
                             std::size_t max_length, std::size_t classes);
}  // namespace detail

// One sample a line: the label, then the token ids, separated by blanks. Blank lines are
// skipped. Rejects (nnp::data_error naming file, line and column): an id outside
// [1, Vocab), a line with no ids, more than MaxLen ids, a label outside [0, Classes),
// anything that is not a non-negative integer, and a file with no samples.
template <std::size_t Vocab, std::size_t MaxLen, std::size_t Classes>
token_dataset<Vocab, MaxLen, Classes> load_token_sequences(const std::string& path) {
    auto lines = detail::read_token_lines(path, Vocab, MaxLen, Classes);
    token_dataset<Vocab, MaxLen, Classes> ds;
    ds.tokens = std::move(lines.tokens);
    ds.labels = std::move(lines.labels);
    return ds;
}

// The built-in order task: does token 1 ("A") occur before token 2 ("B")? Each sample holds
// one A and one B at random distinct positions among fillers drawn from [3, Vocab), with a
// length drawn from [min_length, MaxLen]. Label 1 when A comes first. A bag of tokens cannot
// tell the classes apart: only the order can.
template <std::size_t Vocab, std::size_t MaxLen>
token_dataset<Vocab, MaxLen, 2> order_task(std::size_t samples, seed s, std::size_t min_length = 2) {
    static_assert(Vocab >= 4, "nnprobe: order_task needs ids 1 and 2 and at least one filler");
    static_assert(MaxLen >= 2, "nnprobe: order_task needs room for both tokens");
    if (min_length < 2 || min_length > MaxLen)
        throw data_error("order_task: min_length " + std::to_string(min_length) +
                         " is outside [2, " + std::to_string(MaxLen) + "]");
    rng r(s.value);
    token_dataset<Vocab, MaxLen, 2> ds;
    ds.tokens.reserve(samples);
    ds.labels.reserve(samples);
    for (std::size_t i = 0; i < samples; ++i) {
        const std::size_t len = min_length + r.below(MaxLen - min_length + 1);
        std::vector<std::uint32_t> seq(len);
        for (auto& t : seq) t = static_cast<std::uint32_t>(3 + r.below(Vocab - 3));
        const std::size_t a = r.below(len);
        std::size_t b = r.below(len - 1);
        if (b >= a) ++b;
        seq[a] = 1;
        seq[b] = 2;
        ds.tokens.push_back(std::move(seq));
        ds.labels.push_back(a < b ? 1 : 0);
    }
    return ds;
}

// The samples at `rows`, in that order (repeats allowed).
template <std::size_t V, std::size_t M, std::size_t C>
token_dataset<V, M, C> subset(const token_dataset<V, M, C>& ds, const std::vector<std::size_t>& rows) {
    detail::check_consistent(ds);
    token_dataset<V, M, C> out;
    out.tokens.reserve(rows.size());
    out.labels.reserve(rows.size());
    for (std::size_t i : rows) {
        if (i >= ds.size())
            throw data_error("subset: row " + std::to_string(i) + " is out of range for a data set of " +
                             std::to_string(ds.size()) + " samples");
        out.tokens.push_back(ds.tokens[i]);
        out.labels.push_back(ds.labels[i]);
    }
    return out;
}

// `per_class` samples of every class, in a seeded interleaved order (as for dataset<F, L>).
template <std::size_t V, std::size_t M, std::size_t C>
token_dataset<V, M, C> stratified(const token_dataset<V, M, C>& ds, std::size_t per_class, seed s) {
    if (per_class == 0) throw data_error("stratified: per_class must be at least 1");
    detail::check_consistent(ds);
    return detail::stratified_all(ds, ds.labels, per_class, s);
}

// A batch of sequences: token ids (rows = samples, padded with padding id 0 to the longest
// sample), its mask, the labels, and which samples of the data set it holds.
template <class T>
struct sequence_batch {
    matrix<T> tokens;
    padding_mask mask;
    std::vector<int> labels;
    std::vector<std::size_t> samples;
};

// Pads the samples `rows` of `ds` to the longest of them (or to `length`, when longer).
template <class T, std::size_t V, std::size_t M, std::size_t C>
sequence_batch<T> pad_batch(const token_dataset<V, M, C>& ds, const std::vector<std::size_t>& rows,
                            std::size_t length = 0) {
    if (rows.empty()) throw data_error("pad_batch: a batch needs at least one sample");
    std::vector<std::size_t> lengths;
    lengths.reserve(rows.size());
    for (std::size_t i : rows) {
        if (i >= ds.size())
            throw data_error("pad_batch: sample " + std::to_string(i) + " is past the data set's " +
                             std::to_string(ds.size()) + " samples");
        lengths.push_back(ds.tokens[i].size());
        length = std::max(length, ds.tokens[i].size());
    }
    sequence_batch<T> b;
    b.tokens = detail::zero_matrix<T>(rows.size(), length);
    for (std::size_t k = 0; k < rows.size(); ++k) {
        const auto& seq = ds.tokens[rows[k]];
        for (std::size_t t = 0; t < seq.size(); ++t) b.tokens(k, t) = static_cast<T>(seq[t]);
        b.labels.push_back(ds.labels[rows[k]]);
    }
    b.mask = padding_mask(std::move(lengths), length);
    b.samples = rows;
    return b;
}

// The samples 0 .. n-1 in a seeded order, cut into batches of `batch_size` (the last may be
// shorter).
inline std::vector<std::vector<std::size_t>> sequence_batch_order(std::size_t n, std::size_t batch_size,
                                                              seed s) {
    if (batch_size == 0) throw data_error("sequence_batch_order: batch size 0");
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    rng(s.value).shuffle(order.begin(), order.end());
    std::vector<std::vector<std::size_t>> out;
    for (std::size_t i = 0; i < n; i += batch_size)
        out.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(i),
                         order.begin() + static_cast<std::ptrdiff_t>(std::min(n, i + batch_size)));
    return out;
}

}  // namespace nnp

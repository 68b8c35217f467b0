#pragma once
// causality: in a model declared causal (a node whose layer declares `causal = true`, such
// as causal_self_attention), the output at position t of every sequence node does not
// change when the tokens after t change. For each cut t, every real token after t of every
// sample is replaced by another id (seeded draws) and the batch is run again in evaluation
// mode; positions 0 .. t must keep their outputs. On failure it names the first node where
// the future leaks in, the sample, the cut, the position and the size of the change. A
// model with no causal node is not applicable: the verdict passes and says so.
//
//   auto v = nnp::causality(model, data, {0, 1, 2, 3, 4, 5, 6, 7});
//
// Tolerance: none, the outputs must keep their bits. Both passes have the same shapes, so
// the same kernels and summation orders, and every layer computes a row's positions from
// that row's values at positions it may see; a position that reads no later token repeats
// its arithmetic exactly.
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/core.h>

#include <nnprobe/error.hpp>
#include <nnprobe/model.hpp>
#include <nnprobe/random.hpp>
#include <nnprobe/token_data.hpp>

#include "sequence_nodes.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
template <class T>
verdict causality(const sequence_model_view<T>& m, const std::vector<std::size_t>& rows, seed s) {
    const auto batch = m.pad(rows, 0);  // bad rows are errors, causal model or not
    verdict v;
    v.check = "causality";
    v.threshold = 0;
    if (m.causal_node == npos) {
        v.passed = true;
        v.explanation = "causality: not applicable: no node declares itself causal "
                        "(causal_self_attention, or a layer with `static constexpr bool causal = "
                        "true`)";
        v.notes.push_back("not applicable: the model is not causal");
        return v;
    }
    m.forward(batch.tokens, batch.mask, mode::eval);
    const auto before = m.outputs();
    const std::size_t n = rows.size(), len = batch.mask.length(), vocab = m.vocabulary;
    rng draw = rng(s).fork(0xca5a);

    // The first node that leaks, over every cut; at that node, the largest change.
    std::size_t node = npos, cut = 0, sample = 0;
    largest_difference worst;
    double largest = 0;  // over every node and cut: 0 when nothing leaks
    matrix<T> changed;
    for (std::size_t t = 0; t + 1 < len; ++t) {
        changed = batch.tokens;
        for (std::size_t k = 0; k < n; ++k)
            for (std::size_t u = t + 1; u < batch.mask.length_of(k); ++u) {
                // Another id in [1, vocab): shifted by 1 .. vocab - 2 around the real ids.
                const auto id = static_cast<std::size_t>(batch.tokens(k, u));
                changed(k, u) = static_cast<T>(1 + (id - 1 + 1 + draw.below(vocab - 2)) % (vocab - 1));
            }
        m.forward(changed, batch.mask, mode::eval);
        for (std::size_t i = 1; i < m.size() && i <= node; ++i) {
            if (!m.widths[i]) continue;
            for (std::size_t k = 0; k < n; ++k) {
                if (batch.mask.length_of(k) <= t + 1) continue;  // nothing after t changed
                const auto d = compare_rows(before[i], k, m.output(i), k, m.widths[i], t + 1);
                largest = std::max(largest, d.value);
                if (d.value == 0) continue;
                if (i < node) node = i, worst = {};
                if (d.value > worst.value) worst = d, cut = t, sample = k;
            }
        }
    }
    m.forward(batch.tokens, batch.mask, mode::eval);  // every node back on the real batch
    if (node == npos) {
        v.passed = true;
        v.measured = largest;
        v.explanation = fmt::format(
            "causality: changing the tokens after position t leaves positions 0 .. t of every "
            "sequence node unchanged, bit for bit, for every t < {} in {} samples ({} declares "
            "itself causal)",
            len - 1, n, m.node(m.causal_node).label());
        return v;
    }
    v.node = node;
    v.measured = worst.value;
    v.hint = "the nodes before it keep positions 0 .. t: it lets a position see later ones (a "
             "causal mask off by one, or none)";
    v.explanation = fmt::format(
        "causality: changing the tokens after position {} of sample {} (length {}) changes the "
        "first node where later tokens leak in, {}, at {} (|change| = {:.3g}, must be 0); {}",
        cut, rows[sample], batch.mask.length_of(sample), m.node(node).label(), where_in_node(worst),
        worst.value, v.hint);
    return v;
}
}  // namespace detail

// `rows`: the samples of `data` to run, as one batch; `s`: seeds the replacement ids.
template <class T, class G, std::size_t V, std::size_t M, std::size_t C>
verdict causality(model<T, G>& m, const token_dataset<V, M, C>& data, const std::vector<std::size_t>& rows,
                  seed s = seed{1}) {
    static_assert(model<T, G>::sequential,
                  "nnprobe: causality takes a sequence model: a graph that starts with "
                  "token_input<MaxLen>");
    static_assert(V >= 3, "nnprobe: causality replaces tokens by other ids: the vocabulary needs "
                          "at least two besides the padding id");
    return detail::causality(detail::view_of(m, data), rows, s);
}

}  // namespace nnp

#pragma once
// P4 on sequences, padding_invariance: a sample's output is the same alone (no padding), in
// its batch (padded to the batch's longest sample) and padded further (to the network's
// maximum length), at every node, compared over the sample's real positions only (a
// sequence node's positions before the sample's length; a flat node, such as a pooled
// output, in full). In evaluation mode, and in training mode too when training passes are
// repeatable (no stochastic layer such as dropout) and no node couples the samples of a
// batch (batch norm). On failure it names the sample, the first node whose output diverges,
// the position and feature, and the difference.
//
//   auto v = nnp::padding_invariance(model, data, {0, 1, 2, 3, 4, 5, 6, 7});
//
// Tolerance: 1024 ulp of the scalar type, relative to the node's largest output over the
// real positions (at least 1), the tolerance of batch_invariance and for the same reason.
// The library's masked layers visit the real positions of a sample in the same order
// whatever the padding, so what can differ is the matrix products (dense per position,
// attention's projections): the kernel for B * T rows may sum a row's products in another
// order than the one for the sample's T rows. That rounding (a few ulp) is then carried
// through the layers after it (layer norm divides by a standard deviation, softmax
// exponentiates), which stays well inside 2^10 ulp: docs/sequences.md gives the measured
// spread. A layer that reads padded positions is off by the size of its outputs.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/core.h>

#include <nnprobe/error.hpp>
#include <nnprobe/model.hpp>
#include <nnprobe/token_data.hpp>

#include "sequence_nodes.hpp"
#include "tolerances.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
// Why training passes cannot be compared, or "" when they can.
template <class T>
std::string training_passes_unrepeatable(const sequence_model_view<T>& m, const sequence_batch<T>& one) {
    for (std::size_t i = 0; i < m.size(); ++i)
        if (m.node(i).couples_batch)
            return fmt::format("training mode not compared: {} couples the samples of a batch in "
                               "training", m.node(i).label());
    m.forward(one.tokens, one.mask, mode::train);
    const auto first = m.outputs();
    m.forward(one.tokens, one.mask, mode::train);
    for (std::size_t i = 1; i < m.size(); ++i)
        if (std::memcmp(first[i].data(), m.output(i).data(), first[i].size() * sizeof(T)) != 0)
            return fmt::format("training mode not compared: {} gives another output on each "
                               "training pass (a stochastic layer)", m.node(i).label());
    return "";
}

template <class T>
verdict padding_invariance(const sequence_model_view<T>& m, const std::vector<std::size_t>& rows,
                           std::size_t longer) {
    if (longer == 0) longer = m.max_length;
    if (longer > m.max_length)
        throw error(fmt::format("nnprobe: padding_invariance: cannot pad to {} positions: the "
                                "network takes at most {}", longer, m.max_length));
    verdict v;
    v.check = "padding_invariance";
    v.threshold = invariance_tolerance<T>();
    const std::size_t n = rows.size(), nodes = m.size();
    const auto batch = m.pad(rows, 0);
    const auto wide = m.pad(rows, std::max(longer, batch.mask.length()));
    const bool further = wide.mask.length() > batch.mask.length();
    if (!batch.mask.has_padding() && !further)
        v.notes.push_back(fmt::format("no sample was padded: all {} have the network's maximum "
                                      "length {}", n, m.max_length));

    std::vector<mode> modes{mode::eval};
    const std::string no_training = training_passes_unrepeatable(m, m.pad({rows[0]}, 0));
    if (no_training.empty()) modes.push_back(mode::train);
    else v.notes.push_back(no_training);

    double spread = 0;  // the largest relative difference seen
    for (const mode md : modes) {
        m.forward(batch.tokens, batch.mask, md);
        const auto in_batch = m.outputs();
        std::vector<matrix<T>> padded;
        if (further) {
            m.forward(wide.tokens, wide.mask, md);
            padded = m.outputs();
        }
        std::vector<std::vector<matrix<T>>> alone(n);
        for (std::size_t k = 0; k < n; ++k) {
            const auto single = m.pad({rows[k]}, 0);
            m.forward(single.tokens, single.mask, md);
            alone[k] = m.outputs();
        }
        for (std::size_t i = 0; i < nodes; ++i) {
            const std::size_t width = m.widths[i];
            double scale = 1;
            for (std::size_t k = 0; k < n; ++k)
                scale = std::max(scale, largest_magnitude(alone[k][i], 0, width, batch.mask.length_of(k)));
            largest_difference worst;
            std::size_t worst_k = 0;
            bool worst_in_batch = true;
            for (std::size_t k = 0; k < n; ++k) {
                const std::size_t len = batch.mask.length_of(k);
                const auto d = compare_rows(alone[k][i], 0, in_batch[i], k, width, len);
                if (d.value > worst.value) worst = d, worst_k = k, worst_in_batch = true;
                if (!further) continue;
                const auto e = compare_rows(alone[k][i], 0, padded[i], k, width, len);
                if (e.value > worst.value) worst = e, worst_k = k, worst_in_batch = false;
            }
            spread = std::max(spread, worst.value / scale);
            if (worst.value <= v.threshold * scale) continue;
            v.node = i;
            v.measured = worst.value / scale;
            v.hint = i == 0 ? "the padded batch does not hold the sample's tokens"
                   : width ? "the nodes before it agree: its real positions read padded ones (attention "
                             "without the key-padding mask, or with the mask on the query axis, "
                             "inverted, or applied after the softmax)"
                           : "the nodes before it agree: it reduces over padded positions (a mean that "
                             "divides by the batch's length, the batch's last position taken as the "
                             "sample's last token)";
            const auto& b = worst_in_batch ? batch : wide;
            v.explanation = fmt::format(
                "padding_invariance: sample {} (length {}) differs in its batch of {} padded to {} "
                "positions{} vs alone (no padding), in {} mode; the first node whose output "
                "diverges is {} at {} (|diff| = {:.3g}, tolerance {:.3g}: {:.3g} relative to the "
                "node's largest output {:.3g}); {}",
                rows[worst_k], b.mask.length_of(worst_k), n, b.mask.length(),
                worst_in_batch ? "" : " (further than its longest sample)",
                md == mode::eval ? "evaluation" : "training", m.node(i).label(), where_in_node(worst),
                worst.value, v.threshold * scale, v.threshold, scale, v.hint);
            return v;
        }
    }
    v.passed = true;
    v.measured = spread;
    v.explanation = fmt::format(
        "padding_invariance: all {} samples agree at every node over their real positions, alone, "
        "in their batch (padded to {}){}, in {} mode (largest difference {:.3g} relative, "
        "tolerance {:.3g})",
        n, batch.mask.length(), further ? fmt::format(" and padded to {}", wide.mask.length()) : "",
        modes.size() == 2 ? "evaluation and training" : "evaluation", spread, v.threshold);
    return v;
}
}  // namespace detail

// `rows`: the samples of `data` to compare, as one batch. `longer`: the length of the
// further padding (0: the network's maximum length, token_input<MaxLen>).
template <class T, class G, std::size_t V, std::size_t M, std::size_t C>
verdict padding_invariance(model<T, G>& m, const token_dataset<V, M, C>& data,
                           const std::vector<std::size_t>& rows, std::size_t longer = 0) {
    static_assert(model<T, G>::sequential,
                  "nnprobe: padding_invariance takes a sequence model: a graph that starts with "
                  "token_input<MaxLen>");
    static_assert(M <= detail::shape_at<G, 0>::max_length,
                  "nnprobe: padding_invariance: the data set's sequences (MaxLen) can be longer than "
                  "the network's token_input<MaxLen>");
    return detail::padding_invariance(detail::view_of(m, data), rows, longer);
}

}  // namespace nnp

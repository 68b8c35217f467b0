#pragma once
// What the sequence probes read from a model: which nodes are sequences (and their width),
// whether the graph declares itself causal, every node's outputs after a pass, and how far
// two passes of one sample differ over its real positions. The probes' bodies work on a
// `sequence_model_view`, which hides the graph type: they are compiled once per scalar type,
// not once per network.
#include <array>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <nnprobe/graph.hpp>
#include <nnprobe/model.hpp>
#include <nnprobe/sequence.hpp>
#include <nnprobe/token_data.hpp>

namespace nnp::detail {

// Features per position of every node of G; 0 for a flat node (a pooled output, the head).
template <class G>
constexpr std::array<std::size_t, G::size> sequence_widths() {
    return []<std::size_t... I>(std::index_sequence<I...>) {
        return std::array<std::size_t, G::size>{[] {
            if constexpr (is_sequence<shape_at<G, I>>) return shape_at<G, I>::width;
            else return std::size_t{0};
        }()...};
    }(std::make_index_sequence<G::size>{});
}

// A layer declares itself causal (position t reads positions <= t only) with
// `static constexpr bool causal = true`, as causal_self_attention does.
template <class L>
constexpr bool declares_causal() {
    if constexpr (requires { L::causal; }) return static_cast<bool>(L::causal);
    else return false;
}
// The first node of G that declares itself causal, or npos.
template <class G>
constexpr std::size_t first_causal_node() {
    return []<std::size_t... I>(std::index_sequence<I...>) {
        std::size_t first = npos;
        ((I > 0 && first == npos && declares_causal<layer_at<G, I>>() ? (first = I, 0) : 0), ...);
        return first;
    }(std::make_index_sequence<G::size>{});
}

// A sequence model and a token data set, as the probes use them: run a batch, read a node's
// output, pad samples of the data set into a batch.
template <class T>
struct sequence_model_view {
    std::function<void(const matrix<T>&, const padding_mask&, mode)> forward;
    std::function<const matrix<T>&(std::size_t)> output;
    std::function<sequence_batch<T>(const std::vector<std::size_t>&, std::size_t)> pad;
    const std::vector<node_info>* nodes;
    std::vector<std::size_t> widths;  // per node; 0: flat
    std::size_t max_length;           // the network's token_input<MaxLen>
    std::size_t vocabulary;           // the data set's ids are in [1, vocabulary)
    std::size_t causal_node;          // the first node declaring itself causal, or npos

    const node_info& node(std::size_t i) const { return (*nodes)[i]; }
    std::size_t size() const { return nodes->size(); }
    // Every node's outputs after the last pass (node 0: the tokens).
    std::vector<matrix<T>> outputs() const {
        std::vector<matrix<T>> out;
        out.reserve(size());
        for (std::size_t i = 0; i < size(); ++i) out.push_back(output(i));
        return out;
    }
};

template <class T, class G, std::size_t V, std::size_t M, std::size_t C>
sequence_model_view<T> view_of(model<T, G>& m, const token_dataset<V, M, C>& data) {
    constexpr auto widths = sequence_widths<G>();
    return {[&m](const matrix<T>& x, const padding_mask& mask, mode md) { m.forward(x, mask, md); },
            [&m](std::size_t i) -> const matrix<T>& { return m.output(i); },
            [&data](const std::vector<std::size_t>& rows, std::size_t length) {
                return pad_batch<T>(data, rows, length);
            },
            &m.nodes(),
            std::vector<std::size_t>(widths.begin(), widths.end()),
            shape_at<G, 0>::max_length,
            V,
            first_causal_node<G>()};
}

// Where two outputs of one sample differ most: the position (npos for a flat node), the
// feature, and |a - b| (infinity when either is NaN).
struct largest_difference {
    double value = 0;
    std::size_t position = npos;
    std::size_t feature = 0;
};

// Row `ra` of `a` against row `rb` of `b`, over the first `positions` positions of a sequence
// node of `width` features (width 0: a flat node, every column).
template <class T>
largest_difference compare_rows(const matrix<T>& a, std::size_t ra, const matrix<T>& b, std::size_t rb,
                                std::size_t width, std::size_t positions) {
    largest_difference d;
    const std::size_t cols = width ? positions * width : a.shape()[1];
    for (std::size_t c = 0; c < cols; ++c) {
        double diff = std::abs(static_cast<double>(a(ra, c)) - static_cast<double>(b(rb, c)));
        if (std::isnan(diff)) diff = std::numeric_limits<double>::infinity();
        if (diff > d.value) d = {diff, width ? c / width : npos, width ? c % width : c};
    }
    return d;
}

// The largest |value| of row r over its first `positions` positions (every column of a
// flat node).
template <class T>
double largest_magnitude(const matrix<T>& a, std::size_t r, std::size_t width, std::size_t positions) {
    double top = 0;
    const std::size_t cols = width ? positions * width : a.shape()[1];
    for (std::size_t c = 0; c < cols; ++c)
        if (const double v = std::abs(static_cast<double>(a(r, c))); v > top) top = v;
    return top;
}

inline std::string where_in_node(const largest_difference& d) {
    return d.position == npos ? "feature " + std::to_string(d.feature)
                              : "position " + std::to_string(d.position) + ", feature " +
                                    std::to_string(d.feature);
}

}  // namespace nnp::detail

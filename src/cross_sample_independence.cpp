// The cross_sample_independence check's analysis and texts
// (probes/nnprobe/probes/cross_sample_independence.hpp), compiled once here, for float and double.
#include <nnprobe/probes/cross_sample_independence.hpp>

namespace nnp::detail {
namespace {
// Does any row of `g` other than `keep` hold a non-zero (or NaN) value? The largest such
// magnitude and its row, when one does.
template <class T>
std::optional<std::pair<std::size_t, double>> leak_outside(const matrix<T>& g, std::size_t keep) {
    if (g.dimension() != 2 || g.size() == 0) return std::nullopt;
    const std::size_t rows = g.shape()[0], cols = g.shape()[1];
    std::optional<std::pair<std::size_t, double>> worst;
    for (std::size_t r = 0; r < rows; ++r) {
        if (r == keep) continue;
        const T* p = g.data() + r * cols;
        for (std::size_t c = 0; c < cols; ++c)
            if (p[c] != T(0)) {
                const double a = std::isnan(p[c]) ? INFINITY : std::abs(static_cast<double>(p[c]));
                if (!worst || a > worst->second) worst = std::pair{r, a};
            }
    }
    return worst;
}

}  // namespace

template <class T>
bool gradient_stays_in_sample(const std::vector<const matrix<T>*>& gradients, const std::vector<node_info>& info,
                              mode md, std::size_t i, verdict& v) {
    const char* mode_text = md == mode::eval ? "evaluation" : "training";
    std::vector<std::optional<std::pair<std::size_t, double>>> leak(info.size());
    for (std::size_t k = 0; k < info.size(); ++k) leak[k] = leak_outside(*gradients[k], i);
    // The node where it shows: its own gradient clean, an input's not, and every other
    // consumer of that input clean too (else the leak may come through that one).
    for (const auto& node : info) {
        if (node.index == 0 || leak[node.index]) continue;
        if (md == mode::train && node.couples_batch) continue;
        for (std::size_t in : node.inputs) {
            if (!leak[in]) continue;
            bool others_clean = true;
            for (const auto& c : info)
                for (std::size_t j : c.inputs)
                    if (j == in && leak[c.index]) others_clean = false;
            if (!others_clean) continue;
            v.node = node.index;
            v.measured = leak[in]->second;
            v.hint = md == mode::eval
                         ? "does it reshape or transpose across the batch axis, or mask or normalise "
                           "across samples (batch statistics in evaluation)?"
                         : "only nodes that declare batch coupling (`static constexpr bool couples_batch "
                           "= true`, as batch norm does) may mix samples in training: does it reshape "
                           "or transpose across the batch axis, or mask or normalise across samples?";
            v.explanation = fmt::format(
                "cross_sample_independence: in {} mode the loss of sample {} has a gradient with respect "
                "to another sample's values (row {} of the gradient of {}: max |g| = {:.3g}, exactly 0 "
                "when samples are independent); the samples mix at {}: the gradient it receives is sample "
                "{}'s alone, the one it passes back is not; {}",
                mode_text, i, leak[in]->first, in == 0 ? std::string("the input") : info[in].label(),
                v.measured, node.label(), i, v.hint);
            return false;
        }
    }
    if (md == mode::eval && leak[0]) {  // not localised (cannot happen with per-node buffers)
        v.node = 0;
        v.measured = leak[0]->second;
        v.explanation = fmt::format(
            "cross_sample_independence: in evaluation mode the loss of sample {} has a gradient with "
            "respect to the input of sample {} (max |g| = {:.3g})",
            i, leak[0]->first, v.measured);
        return false;
    }
    return true;
}

template bool gradient_stays_in_sample(const std::vector<const matrix<float>*>&, const std::vector<node_info>&,
                                       mode, std::size_t, verdict&);
template bool gradient_stays_in_sample(const std::vector<const matrix<double>*>&, const std::vector<node_info>&,
                                       mode, std::size_t, verdict&);

void gather_mixes_samples(verdict& v, std::size_t i, std::size_t row) {
    v.measured = 1;
    v.hint = "the gather stage hands sample i another sample's output row";
    v.explanation = fmt::format(
        "cross_sample_independence: the loss of sample {} is computed on output row {}, which "
        "the input of sample {} produces: the pipeline's gather stage mixes the samples; {}",
        i, row, row, v.hint);
}

void samples_independent(verdict& v, const std::vector<node_info>& info, std::size_t samples, std::size_t n) {
    std::size_t coupling = 0;
    for (const auto& node : info) coupling += node.couples_batch;
    v.passed = true;
    v.explanation = fmt::format(
        "cross_sample_independence: the loss of each of {} of {} samples, backpropagated alone, has an exactly "
        "zero gradient for every other sample at every node, in evaluation and in training{}",
        samples, n, coupling ? fmt::format(" (where {} node{} declaring batch coupling may mix them)", coupling,
                                  coupling > 1 ? "s" : "")
                    : std::string());
}

}  // namespace nnp::detail

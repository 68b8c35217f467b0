// The cross_sample_independence check (probes/nnprobe/probes/cross_sample_independence.hpp),
// compiled once here for float and double rather than once per pipeline.
#include <algorithm>
#include <optional>

#include <nnprobe/probes/cross_sample_independence.hpp>
#include <nnprobe/probes/recorded_run.hpp>

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

// After sample i's loss alone was backpropagated (in mode `md`), with every node's gradient:
// does it stay in sample i's rows? When not, `v` names the node where the samples mix and
// false is returned.
template <class T>
static bool gradient_stays_in_sample(const std::vector<const matrix<T>*>& gradients, const std::vector<node_info>& info,
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


// The verdict's texts: the gather stage hands sample i output row `row`; every sample passed.
static void gather_mixes_samples(verdict& v, std::size_t i, std::size_t row) {
    v.measured = 1;
    v.hint = "the gather stage hands sample i another sample's output row";
    v.explanation = fmt::format(
        "cross_sample_independence: the loss of sample {} is computed on output row {}, which "
        "the input of sample {} produces: the pipeline's gather stage mixes the samples; {}",
        i, row, row, v.hint);
}

static void samples_independent(verdict& v, const std::vector<node_info>& info, std::size_t samples, std::size_t n) {
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

template <class T>
verdict cross_sample_independence_on(probe_target<T>& target, const probe_options& o) {
    const auto started = warmed_run(target, o);
    any_run<T>& m = *started;
    m.enable_input_gradient(true);
    m.infer();  // the transforms, as the pipeline applies them
    const std::size_t n = m.output(0).shape()[0], cols = m.output(m.nodes().size() - 1).shape()[1];
    const auto& info = m.nodes();
    const std::size_t samples = std::min<std::size_t>(n, 8);
    std::vector<std::size_t> order;
    m.gather_order(n, order);

    verdict v;
    v.check = "cross_sample_independence";
    v.threshold = 0;
    matrix<T> row({std::size_t{1}, cols}), g;
    std::vector<const matrix<T>*> gradients(info.size());
    // One mode: every sample's loss alone, backward, and where its gradient leaks.
    auto independent = [&](mode md) -> bool {
        const matrix<T>& out = m.forward_again(md);
        for (std::size_t k = 0; k < samples; ++k) {
            const std::size_t i = k * n / samples;
            if (order.size() != n || order[i] != i) {
                gather_mixes_samples(v, i, order.at(i));
                return false;
            }
            std::copy_n(out.data() + i * cols, cols, row.data());
            target.sample_loss(row, i, g);
            bool zero = true;
            for (T e : g) zero = zero && e == T(0);
            if (zero) g.fill(T(1));  // a sample already fitted exactly: any direction will do
            auto& dy = m.output_grad();
            dy.fill(T(0));
            std::copy_n(g.data(), cols, dy.data() + i * cols);
            m.backward();
            for (std::size_t k = 0; k < info.size(); ++k) gradients[k] = &m.gradient(k);
            if (!gradient_stays_in_sample(gradients, info, md, i, v)) return false;
        }
        return true;
    };
    if (!independent(mode::eval) || !independent(mode::train)) return v;
    samples_independent(v, info, samples, n);
    return v;
}

template verdict cross_sample_independence_on(probe_target<float>&, const probe_options&);
template verdict cross_sample_independence_on(probe_target<double>&, const probe_options&);

}  // namespace nnp::detail

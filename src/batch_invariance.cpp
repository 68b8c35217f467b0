// The batch_invariance check's comparisons and texts (probes/nnprobe/probes/batch_invariance.hpp),
// compiled once here, for float and double.
#include <nnprobe/probes/batch_invariance.hpp>

namespace nnp::detail {

template <class T>
bool rows_agree(const std::vector<const matrix<T>*>& outputs, const std::vector<matrix<T>>& ref,
                const std::vector<double>& scale, const matrix<T>& out, const matrix<T>& ref_out, std::size_t row,
                std::size_t sample, const char* how, std::size_t n, const std::vector<node_info>& info, verdict& v) {
    const std::size_t nodes = outputs.size();
    for (std::size_t i = 0; i < nodes; ++i) {
        const auto& out = *outputs[i];
        const std::size_t cols = std::min(out.shape()[1], ref[i].shape()[1]);
        double worst = 0;
        for (std::size_t j = 0; j < cols; ++j) {
            const double d = std::abs(static_cast<double>(out(row, j)) - ref[i](sample, j));
            worst = std::isnan(d) ? INFINITY : std::max(worst, d);
        }
        const double tol = v.threshold * scale[i];
        if (worst <= tol) continue;
        const auto& node = info.at(i);
        v.node = i;
        v.measured = worst;
        v.hint = i == 0 ? "a transform of the pipeline depends on the batch"
                        : "the nodes before it agree: does it use batch statistics in "
                          "evaluation mode, or pad or normalise by the batch?";
        v.explanation = fmt::format(
            "batch_invariance: sample {} differs {} vs in its batch of {}; the first node whose "
            "output diverges is {} (max |diff| = {:.3g}, tolerance {:.3g}); {}",
            sample, how, n, node.label(), worst, tol, v.hint);
        return false;
    }
    // Every node agrees; the pipeline's output gathering must too.
    double worst = 0;
    for (std::size_t j = 0; j < out.shape()[1]; ++j)
        worst = std::max(worst, std::abs(static_cast<double>(out(row, j)) - ref_out(sample, j)));
    if (!(worst <= v.threshold * scale[nodes - 1])) {
        v.measured = worst;
        v.hint = "the pipeline's gather stage returns the outputs in another order than the samples";
        v.explanation = fmt::format(
            "batch_invariance: sample {} differs {} vs in its batch of {}, yet every node agrees: "
            "the pipeline's gathered output differs (max |diff| = {:.3g}, tolerance {:.3g}); {}",
            sample, how, n, worst, v.threshold * scale[nodes - 1], v.hint);
        return false;
    }
    return true;
}

template bool rows_agree(const std::vector<const matrix<float>*>&, const std::vector<matrix<float>>&,
                         const std::vector<double>&, const matrix<float>&, const matrix<float>&, std::size_t,
                         std::size_t, const char*, std::size_t, const std::vector<node_info>&, verdict&);
template bool rows_agree(const std::vector<const matrix<double>*>&, const std::vector<matrix<double>>&,
                         const std::vector<double>&, const matrix<double>&, const matrix<double>&, std::size_t,
                         std::size_t, const char*, std::size_t, const std::vector<node_info>&, verdict&);

void batch_agrees(verdict& v, std::size_t n) {
    v.passed = true;
    v.explanation = fmt::format(
        "batch_invariance: all {} samples agree at every node in their batch, alone and shuffled "
        "(tolerance {:.3g} relative)", n, v.threshold);
}

}  // namespace nnp::detail

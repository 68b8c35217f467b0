// The standardiser's fit and application (include/nnprobe/dataset.hpp): not templates, compiled
// once here rather than in every translation unit that includes the header.
#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <nnprobe/dataset.hpp>

namespace nnp {

standardiser standardiser::fit(const xt::xtensor<float, 2>& x) {
    const std::size_t n = x.shape()[0];
    const std::size_t d = x.shape()[1];
    if (n == 0) throw data_error("standardiser: cannot fit on an empty data set");
    // Double accumulators, two passes: float sums lose digits on thousands of rows.
    std::vector<double> sum(d, 0.0);
    std::vector<double> sq(d, 0.0);
    const float* p = x.data();
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j) sum[j] += p[i * d + j];
    for (std::size_t j = 0; j < d; ++j) {
        if (!std::isfinite(sum[j]))
            throw data_error("standardiser: column " + std::to_string(j + 1) +
                             " holds a NaN or infinite value");
        sum[j] /= static_cast<double>(n);
    }
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j) {
            const double dev = p[i * d + j] - sum[j];
            sq[j] += dev * dev;
        }
    standardiser s;
    s.mean = xt::xtensor<float, 1>(std::array<std::size_t, 1>{d});
    s.scale = xt::xtensor<float, 1>(std::array<std::size_t, 1>{d});
    for (std::size_t j = 0; j < d; ++j) {
        const double sd = std::sqrt(sq[j] / static_cast<double>(n));
        s.mean(j) = static_cast<float>(sum[j]);
        // A constant column carries no information: keep it (centred) without dividing by 0.
        s.scale(j) = sd > 0.0 ? static_cast<float>(sd) : 1.0f;
        if (!(s.scale(j) > 0.0f)) s.scale(j) = 1.0f;  // sd below float's smallest value
    }
    return s;
}

void standardiser::apply(xt::xtensor<float, 2>& x) const {
    const std::size_t n = x.shape()[0];
    const std::size_t d = x.shape()[1];
    if (n == 0) return;
    if (d != mean.size() || d != scale.size())
        throw data_error("standardiser: fitted on " + std::to_string(mean.size()) +
                         " columns, applied to " + std::to_string(d));
    float* p = x.data();
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j)
            p[i * d + j] = static_cast<float>(
                (static_cast<double>(p[i * d + j]) - mean(j)) / scale(j));
}

}  // namespace nnp

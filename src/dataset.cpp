// What include/nnprobe/dataset.hpp's functions do that does not depend on a data set's type
// (consistency checks, row copies, stratified picks) and the standardiser's fit and
// application: compiled once here rather than in every translation unit that includes it.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <nnprobe/dataset.hpp>

namespace nnp {

namespace detail {

void check_parts(const xt::xtensor<float, 2>& x, std::size_t features, std::size_t label_rows,
                 std::size_t label_width, std::size_t label_columns) {
    const std::size_t n = x.shape()[0];
    if (n > 0 && x.shape()[1] != features)
        throw data_error("dataset: x has " + std::to_string(x.shape()[1]) + " columns but its features need " +
                         std::to_string(features));
    if (label_columns > 0 && label_rows > 0 && label_width != label_columns)
        throw data_error("dataset: y has " + std::to_string(label_width) + " columns but its targets need " +
                         std::to_string(label_columns));
    if (label_rows != n)
        throw data_error("dataset: x has " + std::to_string(n) + " samples but y has " + std::to_string(label_rows));
}

namespace {
void check_rows(const std::vector<std::size_t>& rows, std::size_t n) {
    for (std::size_t r : rows)
        if (r >= n)
            throw data_error("subset: row " + std::to_string(r) + " is out of range for a data set of " +
                             std::to_string(n) + " samples");
}
}  // namespace

void copy_rows(const xt::xtensor<float, 2>& m, std::size_t columns, const std::vector<std::size_t>& rows,
               xt::xtensor<float, 2>& out) {
    check_rows(rows, m.shape()[0]);
    out = float_matrix(rows.size(), columns);
    for (std::size_t i = 0; i < rows.size(); ++i)
        std::copy_n(m.data() + rows[i] * columns, columns, out.data() + i * columns);
}

void copy_rows(const std::vector<int>& labels, const std::vector<std::size_t>& rows, std::vector<int>& out) {
    check_rows(rows, labels.size());
    out.resize(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) out[i] = labels[rows[i]];
}

std::vector<std::vector<std::size_t>> rows_by_class(const std::vector<int>& labels, std::size_t classes) {
    std::vector<std::vector<std::size_t>> rows_of(classes);
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const int label = labels[i];
        if (label < 0 || static_cast<std::size_t>(label) >= classes)
            throw data_error("sample " + std::to_string(i) + " has label " + std::to_string(label) +
                             ", out of range [0, " + std::to_string(classes) + ") for classes<" +
                             std::to_string(classes) + ">");
        rows_of[static_cast<std::size_t>(label)].push_back(i);
    }
    return rows_of;
}

// Each class draws from its own stream forked from the seed, so the samples picked for class c
// do not depend on which other classes are picked; a last stream interleaves the classes.
std::vector<std::size_t> stratified_rows(const std::vector<std::vector<std::size_t>>& rows_of, std::size_t per_class,
                                         seed s, const std::vector<int>& which, std::size_t classes) {
    for (int c : which) {
        const std::size_t have = rows_of[static_cast<std::size_t>(c)].size();
        if (have < per_class)
            throw data_error("stratified: class " + std::to_string(c) + " has " + std::to_string(have) +
                             " samples, " + std::to_string(per_class) + " were asked for");
    }
    const rng base(s);
    std::vector<std::size_t> picked;
    picked.reserve(per_class * which.size());
    for (int c : which) {
        std::vector<std::size_t> rows = rows_of[static_cast<std::size_t>(c)];
        rng r = base.fork(static_cast<std::uint64_t>(c));
        r.shuffle(rows.begin(), rows.end());
        picked.insert(picked.end(), rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(per_class));
    }
    rng mix = base.fork(classes);
    mix.shuffle(picked.begin(), picked.end());
    return picked;
}

}  // namespace detail

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

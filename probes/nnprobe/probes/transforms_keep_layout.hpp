#pragma once
// transforms_keep_layout: the data and the network declare the same feature shape (C6), so a
// pipeline transform must leave every feature in its place: standardising, masking, adding
// noise change values, not positions. A transform that moves features (an axis transposed,
// H x W x C data read as C x H x W, a reshape) still fits every shape and trains, on scrambled
// images. Each transform is run alone on up to 256 samples; a feature column whose output
// copies another input column (|correlation| > 0.9999) rather than its own (< 0.9) has been
// moved. On failure the check names the transform (its position and type) and a moved feature.
// A transform that moves features on purpose says so: `static constexpr bool moves_features = true;`.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <tuple>
#include <typeinfo>
#include <vector>

#include <fmt/core.h>

#include "mini_run.hpp"
#include "options.hpp"
#include "type_names.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
// Position of flat feature j in shape F, as "(c, h, w)" or "j".
template <class F>
std::string feature_at(std::size_t j) {
    if constexpr (F::rank == 3) {
        const std::size_t hw = F::dims[1] * F::dims[2];
        return fmt::format("(channel {}, row {}, column {})", j / hw, (j % hw) / F::dims[2], j % F::dims[2]);
    } else {
        return std::to_string(j);
    }
}

// Columns standardised to mean 0 and norm 1 (zero when constant), column-major.
inline std::vector<double> unit_columns(const matrix<float>& x, std::vector<bool>& constant) {
    const std::size_t n = x.shape()[0], f = x.shape()[1];
    std::vector<double> z(n * f);
    constant.assign(f, false);
    for (std::size_t j = 0; j < f; ++j) {
        double mean = 0;
        for (std::size_t r = 0; r < n; ++r) mean += x(r, j);
        mean /= static_cast<double>(n);
        double ss = 0;
        for (std::size_t r = 0; r < n; ++r) ss += (x(r, j) - mean) * (x(r, j) - mean);
        constant[j] = !(ss > 1e-12 * static_cast<double>(n));
        const double inv = constant[j] ? 0.0 : 1.0 / std::sqrt(ss);
        for (std::size_t r = 0; r < n; ++r) z[j * n + r] = (x(r, j) - mean) * inv;
    }
    return z;
}
}  // namespace detail

template <class P>
verdict transforms_keep_layout(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    using DS = typename P::dataset_type;
    using F = typename DS::features_type;
    detail::check_consistent(data);
    if (data.size() < 3) throw data_error("nnprobe: transforms_keep_layout needs at least 3 samples");
    const DS sub = take(shuffled(data, o.run_seed), std::min<std::size_t>(data.size(), 256));
    auto transforms = p.transforms;  // fitted here, as a run fits them, on the raw samples
    std::apply([&](auto&... t) { ((void)[&] { if constexpr (requires { t.fit(sub); }) t.fit(sub); }(), ...); },
               transforms);

    verdict v;
    v.check = "transforms_keep_layout";
    constexpr std::size_t count = std::tuple_size_v<decltype(transforms)>;
    matrix<float> x = sub.x;
    std::size_t stage = 0;
    bool failed = false;
    auto check_stage = [&](const auto& t) {
        using X = std::decay_t<decltype(t)>;
        ++stage;
        if (failed) return;
        const matrix<float> before = x;
        t(x);
        if constexpr (requires { X::moves_features; }) {
            if (X::moves_features) return;
        }
        const std::size_t n = x.shape()[0], f = x.shape()[1];
        std::vector<bool> const_in, const_out;
        const auto a = detail::unit_columns(before, const_in), b = detail::unit_columns(x, const_out);
        // At most 256 output columns, spread over the features.
        const std::size_t step = std::max<std::size_t>(1, f / 256);
        std::size_t moved = 0, checked = 0, first = 0, from = 0;
        for (std::size_t j = 0; j < f; j += step) {
            if (const_out[j]) continue;
            ++checked;
            auto corr = [&](std::size_t i) {
                double s = 0;
                for (std::size_t r = 0; r < n; ++r) s += b[j * n + r] * a[i * n + r];
                return std::abs(s);
            };
            const double own = const_in[j] ? 0.0 : corr(j);
            if (own >= 0.9) continue;
            for (std::size_t i = 0; i < f; ++i) {
                if (i == j || const_in[i] || corr(i) <= 0.9999) continue;
                if (moved++ == 0) first = j, from = i;
                break;
            }
        }
        if (!moved) return;
        failed = true;
        v.measured = static_cast<double>(moved);
        v.hint = "an axis transposed (H x W x C data read as C x H x W?) or a reshape: the data set "
                 "and the network both declare the feature shape, so convert the data where it is "
                 "loaded, not in a transform";
        v.explanation = fmt::format(
            "transforms_keep_layout: transform {} of {} ({}) moves features: {} of {} checked feature "
            "columns carry another column's values, e.g. feature {} {} now holds what feature {} {} "
            "held; {}",
            stage, count, detail::readable_type_name<X>(), moved, checked, first, detail::feature_at<F>(first),
            from, detail::feature_at<F>(from), v.hint);
    };
    std::apply([&](const auto&... t) { (check_stage(t), ...); }, transforms);
    if (failed) return v;
    v.passed = true;
    v.explanation = fmt::format("transforms_keep_layout: the pipeline's {} transform(s) keep every feature in place",
                                count);
    return v;
}

}  // namespace nnp

#pragma once
// Typed data sets. The feature shape and the kind of label are part of the type, so a network
// and the data it learns from are checked against each other at compile time. Everything
// random here draws from nnp::rng, so a seed selects the same samples on every platform.
#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include <nnprobe/error.hpp>
#include <nnprobe/random.hpp>
#include <nnprobe/shape.hpp>

namespace nnp {

// ---------------------------------------------------------------------------------------------
// Label kinds

// Classification into C classes: one integer label in [0, C) per sample.
template <std::size_t C>
struct classes {
    static_assert(C >= 1, "nnprobe: classes<C> needs at least one class");
    static_assert(C <= static_cast<std::size_t>(INT_MAX), "nnprobe: labels are stored as int");
    static constexpr std::size_t count = C;
};

// Regression: one float vector of shape `Dims...` per sample.
template <std::size_t... Dims>
struct targets {
    using shape = nnp::shape<Dims...>;
    static constexpr std::size_t size = shape::size;
};

namespace detail {

template <class L>
inline constexpr bool is_classes = false;
template <std::size_t C>
inline constexpr bool is_classes<classes<C>> = true;

template <class L>
inline constexpr bool is_targets = false;
template <std::size_t... D>
inline constexpr bool is_targets<targets<D...>> = true;

// How the labels of a data set are stored, and how many CSV columns they take.
template <class L>
struct label_store;
template <std::size_t C>
struct label_store<classes<C>> {
    using type = std::vector<int>;
    static constexpr std::size_t columns = 1;
};
template <std::size_t... D>
struct label_store<targets<D...>> {
    using type = xt::xtensor<float, 2>;
    static constexpr std::size_t columns = targets<D...>::size;
};

// A rows x cols float matrix; the contents are left for the caller to fill.
inline xt::xtensor<float, 2> float_matrix(std::size_t rows, std::size_t cols) {
    return xt::xtensor<float, 2>(std::array<std::size_t, 2>{rows, cols});
}

// Resizes only when the shape differs, so a reused buffer is never reallocated.
inline void resize_if_needed(xt::xtensor<float, 2>& m, std::size_t rows, std::size_t cols) {
    if (m.shape()[0] != rows || m.shape()[1] != cols)
        m.resize(std::array<std::size_t, 2>{rows, cols});
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// The data set

template <class Features, class Labels>
struct dataset {
    static_assert(detail::is_shape<Features>,
                  "nnprobe: the features of a dataset are nnp::features<...>");
    static_assert(detail::is_classes<Labels> || detail::is_targets<Labels>,
                  "nnprobe: the labels of a dataset are nnp::classes<C> or nnp::targets<...>");

    using features_type = Features;
    using labels_type = Labels;
    using y_type = typename detail::label_store<Labels>::type;
    static constexpr bool is_classification = detail::is_classes<Labels>;

    xt::xtensor<float, 2> x;  // n x Features::size, one flattened sample per row
    y_type y;                 // classes: n labels in [0, C); targets: n x Labels::size

    std::size_t size() const { return x.shape()[0]; }
};

namespace detail {

template <class T>
inline constexpr bool is_dataset = false;
template <class F, class L>
inline constexpr bool is_dataset<dataset<F, L>> = true;

// The work of the functions below that does not depend on the data set's type, compiled once
// in the library (src/dataset.cpp) rather than in every translation unit that uses a data set.
// Throws unless x has `features` columns and as many rows as there are labels (`label_columns`
// 0: class labels, else the targets' width).
void check_parts(const xt::xtensor<float, 2>& x, std::size_t features, std::size_t label_rows,
                 std::size_t label_width, std::size_t label_columns);
// out = the rows `rows` of m (columns wide), with the message of subset() for a row out of range.
void copy_rows(const xt::xtensor<float, 2>& m, std::size_t columns, const std::vector<std::size_t>& rows,
               xt::xtensor<float, 2>& out);
void copy_rows(const std::vector<int>& labels, const std::vector<std::size_t>& rows, std::vector<int>& out);
// The row indices of each class, in data order; rejects labels outside [0, classes).
std::vector<std::vector<std::size_t>> rows_by_class(const std::vector<int>& labels, std::size_t classes);
// `per_class` rows of each class in `which` (sorted, unique, in range), in a seeded
// interleaved order: each class shuffled by its own stream forked from the seed (the rows picked
// for a class do not depend on which other classes are picked), a last stream interleaving them.
std::vector<std::size_t> stratified_rows(const std::vector<std::vector<std::size_t>>& rows_of, std::size_t per_class,
                                         seed s, const std::vector<int>& which, std::size_t classes);

// A hand-built data set may disagree with its own type; check before indexing into it.
template <class F, class L>
void check_consistent(const dataset<F, L>& ds) {
    if constexpr (is_classes<L>)
        check_parts(ds.x, F::size, ds.y.size(), 0, 0);
    else
        check_parts(ds.x, F::size, ds.y.shape()[0], ds.y.shape()[1], L::size);
}

// Copies sample `from` of `ds` into row `to` of the (already shaped) buffers.
template <class F, class L>
void copy_sample(const dataset<F, L>& ds, std::size_t from, xt::xtensor<float, 2>& x,
                 typename dataset<F, L>::y_type& y, std::size_t to) {
    std::copy_n(ds.x.data() + from * F::size, F::size, x.data() + to * F::size);
    if constexpr (is_classes<L>)
        y[to] = ds.y[from];
    else
        std::copy_n(ds.y.data() + from * L::size, L::size, y.data() + to * L::size);
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Subsets

// The samples at `rows`, in that order (repeats allowed).
template <class F, class L>
dataset<F, L> subset(const dataset<F, L>& ds, const std::vector<std::size_t>& rows) {
    detail::check_consistent(ds);
    dataset<F, L> out;
    detail::copy_rows(ds.x, F::size, rows, out.x);
    if constexpr (detail::is_classes<L>)
        detail::copy_rows(ds.y, rows, out.y);
    else
        detail::copy_rows(ds.y, L::size, rows, out.y);
    return out;
}

// All samples in a seeded random order; each sample keeps its label.
template <class F, class L>
dataset<F, L> shuffled(const dataset<F, L>& ds, seed s) {
    std::vector<std::size_t> order(ds.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    rng r(s);
    r.shuffle(order.begin(), order.end());
    return subset(ds, order);
}

// The first n samples, in file order (beware: iris.csv is grouped by class).
template <class F, class L>
dataset<F, L> take(const dataset<F, L>& ds, std::size_t n) {
    if (n > ds.size())
        throw data_error("cannot take the first " + std::to_string(n) +
                         " samples of a data set of " + std::to_string(ds.size()));
    std::vector<std::size_t> rows(n);
    std::iota(rows.begin(), rows.end(), std::size_t{0});
    return subset(ds, rows);
}

template <class F, class L>
dataset<F, L> first_n(const dataset<F, L>& ds, std::size_t n) {
    return take(ds, n);
}

namespace detail {

// `per_class` samples of each class in `which` (sorted, unique and in range), as stratified_rows
// picks them. DS: a data set of classes<C> labels (dataset<F, classes<C>>, token_dataset<V, M, C>).
template <class DS>
DS stratified_pick(const DS& ds, const std::vector<std::vector<std::size_t>>& rows_of, std::size_t per_class,
                   seed s, const std::vector<int>& which) {
    return subset(ds, stratified_rows(rows_of, per_class, s, which, DS::labels_type::count));
}

}  // namespace detail

namespace detail {
// `per_class` samples of every class of a consistent data set with labels `labels`.
template <class DS>
DS stratified_all(const DS& ds, const std::vector<int>& labels, std::size_t per_class, seed s) {
    constexpr std::size_t C = DS::labels_type::count;
    if (per_class == 0) throw data_error("stratified: per_class must be at least 1");
    const auto rows_of = rows_by_class(labels, C);
    const auto present = std::count_if(rows_of.begin(), rows_of.end(),
                                       [](const auto& rows) { return !rows.empty(); });
    if (present < 2)
        throw data_error("a stratified subset needs at least two classes; the data set holds " +
                         std::to_string(present));
    std::vector<int> all(C);
    std::iota(all.begin(), all.end(), 0);
    return stratified_pick(ds, rows_of, per_class, s, all);
}
}  // namespace detail

// `per_class` samples of every class of classes<C>, in a seeded interleaved order.
template <class F, std::size_t C>
dataset<F, classes<C>> stratified(const dataset<F, classes<C>>& ds, std::size_t per_class,
                                  seed s) {
    if (per_class == 0) throw data_error("stratified: per_class must be at least 1");
    detail::check_consistent(ds);
    return detail::stratified_all(ds, ds.y, per_class, s);
}

// `per_class` samples of each class in `which_classes` only (order of the list is irrelevant).
template <class F, std::size_t C>
dataset<F, classes<C>> stratified(const dataset<F, classes<C>>& ds, std::size_t per_class,
                                  seed s, std::vector<int> which_classes) {
    if (per_class == 0) throw data_error("stratified: per_class must be at least 1");
    std::sort(which_classes.begin(), which_classes.end());
    for (std::size_t i = 0; i < which_classes.size(); ++i) {
        const int c = which_classes[i];
        if (c < 0 || static_cast<std::size_t>(c) >= C)
            throw data_error("stratified: class " + std::to_string(c) + " is out of range [0, " +
                             std::to_string(C) + ") for classes<" + std::to_string(C) + ">");
        if (i > 0 && which_classes[i - 1] == c)
            throw data_error("stratified: class " + std::to_string(c) + " is listed twice");
    }
    if (which_classes.size() < 2)
        throw data_error("a stratified subset needs at least two classes; " +
                         std::to_string(which_classes.size()) + " were given");
    detail::check_consistent(ds);
    const auto rows_of = detail::rows_by_class(ds.y, C);
    return detail::stratified_pick(ds, rows_of, per_class, s, which_classes);
}

// ---------------------------------------------------------------------------------------------
// Standardisation

// Per-column (x - mean) / scale, with statistics fitted on one matrix (the training set) and
// applied to others (validation, test) so they see the same transform.
struct standardiser {
    xt::xtensor<float, 1> mean;
    xt::xtensor<float, 1> scale;  // population standard deviation; 1 for a constant column

    // Compiled once, in the library (src/dataset.cpp).
    static standardiser fit(const xt::xtensor<float, 2>& x);
    void apply(xt::xtensor<float, 2>& x) const;
};

// Fits a standardiser on the features of `ds`, applies it in place, and returns it so the
// same transform can be applied to other data.
template <class F, class L>
standardiser standardise(dataset<F, L>& ds) {
    standardiser s = standardiser::fit(ds.x);
    s.apply(ds.x);
    return s;
}

// ---------------------------------------------------------------------------------------------
// Mini-batches

// Deals out mini-batches of a data set, reshuffled every epoch from a seeded rng. next()
// fills buffers the caller owns and keeps, so steady-state training allocates nothing.
// A last partial batch is dropped (every batch has the same size); a data set smaller than
// one batch is dealt as a single batch of all its samples.
template <class DS>
class batcher {
    static_assert(detail::is_dataset<DS>, "nnprobe: batcher<DS> needs an nnp::dataset");
    using features = typename DS::features_type;
    using labels = typename DS::labels_type;

public:
    using y_type = typename DS::y_type;

    // The batcher refers to `ds`, which must outlive it.
    batcher(const DS& ds, std::size_t batch_size, seed s, bool shuffle = true)
        : ds_(&ds), rng_(s), shuffle_(shuffle) {
        detail::check_consistent(ds);
        if (batch_size == 0) throw data_error("batcher: the batch size must be at least 1");
        if (ds.size() == 0) throw data_error("batcher: the data set is empty");
        batch_ = std::min(batch_size, ds.size());
        order_.resize(ds.size());
        std::iota(order_.begin(), order_.end(), std::size_t{0});
        if (shuffle_) rng_.shuffle(order_.begin(), order_.end());
    }
    batcher(const DS&&, std::size_t, seed, bool = true) = delete;  // would dangle

    std::size_t batch_size() const { return batch_; }
    std::size_t batches_per_epoch() const { return order_.size() / batch_; }

    // The next batch: x becomes batch_size() x features, y batch_size() labels or targets.
    void next(xt::xtensor<float, 2>& x, y_type& y) {
        // O(1) guard: the data set is the caller's and may have been edited since.
        detail::check_consistent(*ds_);
        if (ds_->size() != order_.size())
            throw data_error("batcher: the data set changed size since the batcher was made");
        if (cursor_ + batch_ > order_.size()) {
            cursor_ = 0;
            if (shuffle_) rng_.shuffle(order_.begin(), order_.end());
        }
        detail::resize_if_needed(x, batch_, features::size);
        if constexpr (DS::is_classification) {
            if (y.size() != batch_) y.resize(batch_);
        } else {
            detail::resize_if_needed(y, batch_, labels::size);
        }
        for (std::size_t i = 0; i < batch_; ++i)
            detail::copy_sample(*ds_, order_[cursor_ + i], x, y, i);
        cursor_ += batch_;
    }

private:
    const DS* ds_;
    rng rng_;
    bool shuffle_;
    std::size_t batch_ = 0;
    std::size_t cursor_ = 0;
    std::vector<std::size_t> order_;
};

}  // namespace nnp

#pragma once
// Loading a typed data set from a numeric CSV file: the feature columns first, then the label
// column (classes<C>) or the target columns (targets<...>). The parsing is compiled once in
// src/csv.cpp; a user's translation unit only instantiates the thin typed wrapper below.
#include <cstddef>
#include <string>
#include <vector>

#include <nnprobe/dataset.hpp>

namespace nnp {

struct csv_options {
    bool header = true;    // the first line names the columns and is skipped; a first line
                           // of numbers only is refused (the header is missing)
    char delimiter = ',';
};

namespace detail {

// A numeric CSV: `rows` x `columns` finite values (each within float range), row-major, and
// the 1-based file line of each row so later checks can still point into the file.
struct numeric_table {
    std::vector<double> values;
    std::vector<std::size_t> lines;
    std::size_t rows = 0;
    std::size_t columns = 0;
};

// Reads `path`, requiring exactly `expected_columns` numbers on every data line. Throws
// nnp::data_error naming the file, line and column of the first problem.
numeric_table read_numeric_csv(const std::string& path, std::size_t expected_columns,
                               const csv_options& opts);

// Columns [first, first + count) of every row, as float, row-major into `out`.
void copy_columns(const numeric_table& table, std::size_t first, std::size_t count, float* out);

// Column `column` (0-based) as class labels in [0, class_count).
std::vector<int> class_labels(const numeric_table& table, std::size_t column,
                              std::size_t class_count, const std::string& path);

}  // namespace detail

// load_csv<nnp::features<4>, nnp::classes<3>>("iris.csv")
template <class Features, class Labels>
dataset<Features, Labels> load_csv(const std::string& path, csv_options opts = {}) {
    using result = dataset<Features, Labels>;  // checks Features and Labels
    constexpr std::size_t nx = Features::size;
    constexpr std::size_t ny = detail::label_store<Labels>::columns;
    const detail::numeric_table table = detail::read_numeric_csv(path, nx + ny, opts);
    result ds;
    ds.x = detail::float_matrix(table.rows, nx);
    detail::copy_columns(table, 0, nx, ds.x.data());
    if constexpr (result::is_classification) {
        ds.y = detail::class_labels(table, nx, Labels::count, path);
    } else {
        ds.y = detail::float_matrix(table.rows, ny);
        detail::copy_columns(table, nx, ny, ds.y.data());
    }
    return ds;
}

}  // namespace nnp

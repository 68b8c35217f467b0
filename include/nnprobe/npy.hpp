#pragma once
// Loading typed data sets from NumPy's .npy files (what `numpy.save` writes): float32,
// float64 and uint8 arrays (labels also int8/16/32/64 and uint16/32/64), little- or
// big-endian, C or Fortran order. The parsing is compiled once in src/npy.cpp.
//
//   auto ds = nnp::load_npy<nnp::features<1, 8, 8>, nnp::classes<10>>("x.npy", "y.npy");
//
// Features: shape (N, C, H, W) for features<C, H, W> (or flat, (N, C*H*W)). Labels: (N,) or
// (N, 1) integers in [0, C) for classes<C>; (N, dims...) or (N, size) for targets<dims...>.
// Every mismatch is an nnp::data_error naming the file and the expected against the actual
// shape or dtype; a load either returns a whole data set or throws, nothing half-loaded.
#include <cstddef>
#include <string>
#include <vector>

#include <nnprobe/dataset.hpp>

namespace nnp {

// One .npy array, converted to double, in C (row-major) order.
struct npy_array {
    std::vector<std::size_t> shape;
    std::string dtype;  // as NumPy spells it: "float32", "uint8", ...
    std::vector<double> values;
};

// Reads a whole .npy file; throws nnp::data_error naming the file on any problem.
npy_array read_npy(const std::string& path);

namespace detail {
// Checks `a` (read from `path`) against a per-sample shape of `dims`: (N, dims...) or
// (N, product); returns N. `what` names the role ("features<1, 8, 8>").
std::size_t check_npy_samples(const npy_array& a, const std::string& path,
                              const std::vector<std::size_t>& dims, const std::string& what);
// Labels in [0, classes) from an integer array of shape (N,) or (N, 1).
std::vector<int> npy_class_labels(const npy_array& a, const std::string& path, std::size_t classes);

template <std::size_t... D>
std::vector<std::size_t> dims_of(const shape<D...>*) {
    return {D...};
}
template <std::size_t... D>
std::string shape_name(const char* kind, const shape<D...>*) {
    std::string s = kind;
    s += "<";
    std::size_t k = 0;
    ((s += (k++ ? ", " : "") + std::to_string(D)), ...);
    return s + ">";
}
}  // namespace detail

template <class Features, class Labels>
dataset<Features, Labels> load_npy(const std::string& features_path, const std::string& labels_path) {
    using result = dataset<Features, Labels>;  // checks Features and Labels
    const npy_array x = read_npy(features_path);
    const std::size_t n = detail::check_npy_samples(
        x, features_path, detail::dims_of(static_cast<const Features*>(nullptr)),
        detail::shape_name("features", static_cast<const Features*>(nullptr)));
    const npy_array y = read_npy(labels_path);
    result ds;
    if constexpr (result::is_classification) {
        ds.y = detail::npy_class_labels(y, labels_path, Labels::count);
    } else {
        using S = typename Labels::shape;
        const std::size_t ny = detail::check_npy_samples(y, labels_path, detail::dims_of(static_cast<const S*>(nullptr)),
                                                         detail::shape_name("targets", static_cast<const S*>(nullptr)));
        (void)ny;
        ds.y = detail::float_matrix(y.shape[0], Labels::size);
        std::copy(y.values.begin(), y.values.end(), ds.y.begin());
    }
    const std::size_t labelled = result::is_classification ? ds.y.size() : y.shape[0];
    if (labelled != n)
        throw data_error(features_path + " holds " + std::to_string(n) + " samples but " + labels_path +
                         " holds " + std::to_string(labelled) + " labels");
    ds.x = detail::float_matrix(n, Features::size);
    std::copy(x.values.begin(), x.values.end(), ds.x.begin());
    return ds;
}

}  // namespace nnp

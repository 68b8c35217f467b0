// The .npy reader behind nnp::load_npy. The format: the magic "\x93NUMPY", a version (1.0:
// 2-byte header length; 2.0 and 3.0: 4 bytes), a Python dict literal with 'descr',
// 'fortran_order' and 'shape', then the raw array. The input is untrusted: every length and
// every product is checked before it is used.
#include <nnprobe/npy.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include <fmt/format.h>

namespace nnp {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& message) {
    throw data_error(fmt::format("{}: {}", path, message));
}

std::string shape_text(const std::vector<std::size_t>& s) {
    std::string t = "(";
    for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
    return t + (s.size() == 1 ? ",)" : ")");
}

// The value of key `key` in the header dict, as raw text up to the next top-level comma.
std::string dict_value(const std::string& header, const std::string& key, const std::string& path) {
    const std::string quoted[2] = {"'" + key + "'", "\"" + key + "\""};
    std::size_t at = std::string::npos;
    for (const auto& q : quoted)
        if ((at = header.find(q)) != std::string::npos) {
            at += q.size();
            break;
        }
    if (at == std::string::npos) fail(path, fmt::format("the .npy header has no '{}' entry", key));
    at = header.find(':', at);
    if (at == std::string::npos) fail(path, fmt::format("the .npy header's '{}' entry has no value", key));
    ++at;
    while (at < header.size() && header[at] == ' ') ++at;
    std::size_t end = at;
    int depth = 0;
    for (; end < header.size(); ++end) {
        const char c = header[end];
        if (c == '(' || c == '[') ++depth;
        if (c == ')' || c == ']') --depth;
        if ((c == ',' || c == '}') && depth == 0) break;
    }
    return header.substr(at, end - at);
}

struct dtype_info {
    char kind;          // 'f', 'u', 'i'
    std::size_t size;   // bytes
    bool big_endian;
    std::string name;   // NumPy's name
};

dtype_info parse_dtype(std::string d, const std::string& path) {
    if (d.size() >= 2 && (d.front() == '\'' || d.front() == '"')) d = d.substr(1, d.size() - 2);
    if (d.size() < 3) fail(path, fmt::format("unsupported dtype '{}'", d));
    const char order = d[0], kind = d[1];
    std::size_t size = 0;
    for (std::size_t i = 2; i < d.size(); ++i) {
        if (d[i] < '0' || d[i] > '9') fail(path, fmt::format("unsupported dtype '{}'", d));
        size = size * 10 + static_cast<std::size_t>(d[i] - '0');
    }
    const bool ok = (kind == 'f' && (size == 4 || size == 8)) ||
                    ((kind == 'u' || kind == 'i') && (size == 1 || size == 2 || size == 4 || size == 8));
    if (!ok || (order != '<' && order != '>' && order != '|' && order != '='))
        fail(path, fmt::format("unsupported dtype '{}': nnprobe reads float32, float64 and integer arrays", d));
    const std::string name = kind == 'f' ? fmt::format("float{}", size * 8)
                                         : fmt::format("{}int{}", kind == 'u' ? "u" : "", size * 8);
    return {kind, size, order == '>', name};
}

std::vector<std::size_t> parse_shape(const std::string& text, const std::string& path) {
    std::vector<std::size_t> shape;
    std::size_t i = text.find('(');
    if (i == std::string::npos) fail(path, fmt::format("the .npy header's shape '{}' is not a tuple", text));
    for (++i; i < text.size() && text[i] != ')';) {
        if (text[i] == ' ' || text[i] == ',') {
            ++i;
            continue;
        }
        if (text[i] < '0' || text[i] > '9') fail(path, fmt::format("the .npy header's shape '{}' is not a tuple of sizes", text));
        std::size_t v = 0;
        for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
            if (v > (std::numeric_limits<std::size_t>::max() - 9) / 10) fail(path, "a dimension of the shape is too large");
            v = v * 10 + static_cast<std::size_t>(text[i] - '0');
        }
        shape.push_back(v);
    }
    return shape;
}

double element(const unsigned char* p, const dtype_info& t) {
    unsigned char b[8];
    std::memcpy(b, p, t.size);
    if (t.big_endian != (std::endian::native == std::endian::big))
        for (std::size_t i = 0; i < t.size / 2; ++i) std::swap(b[i], b[t.size - 1 - i]);
    auto as = [&](auto v) { std::memcpy(&v, b, sizeof v); return static_cast<double>(v); };
    switch (t.kind) {
        case 'f': return t.size == 4 ? as(float{}) : as(double{});
        case 'u':
            return t.size == 1 ? as(std::uint8_t{}) : t.size == 2 ? as(std::uint16_t{})
                 : t.size == 4 ? as(std::uint32_t{}) : as(std::uint64_t{});
        default:
            return t.size == 1 ? as(std::int8_t{}) : t.size == 2 ? as(std::int16_t{})
                 : t.size == 4 ? as(std::int32_t{}) : as(std::int64_t{});
    }
}

}  // namespace

npy_array read_npy(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) fail(path, "file not found");
    if (std::filesystem::is_directory(path, ec)) fail(path, "is a directory, not a .npy file");
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, "cannot be opened");
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
        fail(path, "not a .npy file (no \\x93NUMPY magic at the start)");
    const auto u8 = [&](std::size_t i) { return static_cast<std::size_t>(static_cast<unsigned char>(bytes[i])); };
    const std::size_t major = u8(6);
    std::size_t header_len = 0, header_at = 0;
    if (major == 1) {
        header_len = u8(8) | u8(9) << 8;
        header_at = 10;
    } else if (major == 2 || major == 3) {
        if (bytes.size() < 12) fail(path, "the .npy header is cut short");
        header_len = u8(8) | u8(9) << 8 | u8(10) << 16 | u8(11) << 24;
        header_at = 12;
    } else {
        fail(path, fmt::format("unsupported .npy format version {}.{}", major, u8(7)));
    }
    if (header_len > bytes.size() - header_at) fail(path, "the .npy header is cut short");
    const std::string header = bytes.substr(header_at, header_len);

    const dtype_info t = parse_dtype(dict_value(header, "descr", path), path);
    const std::string fortran = dict_value(header, "fortran_order", path);
    if (fortran != "True" && fortran != "False")
        fail(path, fmt::format("the .npy header's fortran_order is '{}', not True or False", fortran));
    npy_array a;
    a.shape = parse_shape(dict_value(header, "shape", path), path);
    a.dtype = t.name;

    std::size_t count = 1;
    for (std::size_t d : a.shape) {
        if (d != 0 && count > std::numeric_limits<std::size_t>::max() / d / t.size)
            fail(path, fmt::format("shape {} is too large", shape_text(a.shape)));
        count *= d;
    }
    const std::size_t data_at = header_at + header_len, have = bytes.size() - data_at;
    if (have != count * t.size)
        fail(path, fmt::format("shape {} of {} needs {} bytes of data, the file holds {}", shape_text(a.shape),
                               t.name, count * t.size, have));

    // C order out; Fortran order in: element (i0, ..., ik) sits at sum(i_j * prod(shape[<j])).
    a.values.resize(count);
    const auto* data = reinterpret_cast<const unsigned char*>(bytes.data()) + data_at;
    if (fortran == "False" || a.shape.size() < 2) {
        for (std::size_t i = 0; i < count; ++i) a.values[i] = element(data + i * t.size, t);
    } else {
        const std::size_t rank = a.shape.size();
        std::vector<std::size_t> index(rank, 0), stride(rank, 1);
        for (std::size_t j = 1; j < rank; ++j) stride[j] = stride[j - 1] * a.shape[j - 1];
        for (std::size_t i = 0; i < count; ++i) {
            std::size_t at = 0;
            for (std::size_t j = 0; j < rank; ++j) at += index[j] * stride[j];
            a.values[i] = element(data + at * t.size, t);
            for (std::size_t j = rank; j-- > 0;) {  // next C-order index
                if (++index[j] < a.shape[j]) break;
                index[j] = 0;
            }
        }
    }
    return a;
}

namespace detail {

std::size_t check_npy_samples(const npy_array& a, const std::string& path, const std::vector<std::size_t>& dims,
                              const std::string& what) {
    std::size_t size = 1;
    for (std::size_t d : dims) size *= d;
    std::vector<std::size_t> full{0}, flat{0, size};
    full.insert(full.end(), dims.begin(), dims.end());
    auto fits = [&](const std::vector<std::size_t>& want) {
        if (a.shape.size() != want.size()) return false;
        for (std::size_t i = 1; i < want.size(); ++i)
            if (a.shape[i] != want[i]) return false;
        return true;
    };
    if (!a.shape.empty() && (fits(full) || fits(flat))) {
        if (a.dtype == "float32" || a.dtype == "float64" || a.dtype == "uint8") return a.shape[0];
        fail(path, fmt::format("dtype {} for {}: expected float32, float64 or uint8", a.dtype, what));
    }
    auto with_n = [](std::vector<std::size_t> s) {
        std::string t = "(N";
        for (std::size_t i = 1; i < s.size(); ++i) t += ", " + std::to_string(s[i]);
        return t + ")";
    };
    fail(path, fmt::format("shape {} does not fit {}: expected {}{}", shape_text(a.shape), what, with_n(full),
                           dims.size() > 1 ? " or " + with_n(flat) : std::string()));
}

std::vector<int> npy_class_labels(const npy_array& a, const std::string& path, std::size_t classes) {
    if (!(a.shape.size() == 1 || (a.shape.size() == 2 && a.shape[1] == 1)))
        fail(path, fmt::format("shape {} does not fit classes<{}>: expected (N,) or (N, 1)", shape_text(a.shape),
                               classes));
    if (a.dtype.rfind("float", 0) == 0)
        fail(path, fmt::format("dtype {} for classes<{}>: expected an integer dtype (uint8, int64, ...)", a.dtype,
                               classes));
    std::vector<int> y(a.values.size());
    for (std::size_t i = 0; i < y.size(); ++i) {
        const double v = a.values[i];
        if (v < 0 || v >= static_cast<double>(classes))
            fail(path, fmt::format("label {} of sample {} is out of range [0, {}) for classes<{}>", v, i, classes,
                                   classes));
        y[i] = static_cast<int>(v);
    }
    return y;
}

}  // namespace detail
}  // namespace nnp

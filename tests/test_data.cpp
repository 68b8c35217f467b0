// The typed data layer: CSV loading and its error messages, subsets, standardisation, batching.
#include <doctest/doctest.h>

#include <nnprobe/csv.hpp>
#include <nnprobe/dataset.hpp>
#include <nnprobe/error.hpp>
#include <nnprobe/npy.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

namespace fs = std::filesystem;

namespace {

using iris_t = nnp::dataset<nnp::features<4>, nnp::classes<3>>;
using digits_t = nnp::dataset<nnp::features<64>, nnp::classes<10>>;

const std::string iris_path = NNP_SOURCE_DIR "/examples/data/iris.csv";
const std::string digits_path = NNP_SOURCE_DIR "/examples/data/digits.csv";

iris_t load_iris() { return nnp::load_csv<nnp::features<4>, nnp::classes<3>>(iris_path); }

// A fresh directory under the system temp dir, removed again at the end of the test.
struct temp_dir {
    fs::path path;
    temp_dir() {
        const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
        for (int i = 0;; ++i) {
            path = fs::temp_directory_path() /
                   ("nnprobe-test-" + std::to_string(stamp) + "-" + std::to_string(i));
            if (fs::create_directory(path)) break;
        }
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    std::string write(const std::string& name, const std::string& contents) const {
        const fs::path p = path / name;
        std::ofstream(p, std::ios::binary) << contents;
        return p.string();
    }
};

// Two features and a class label in [0, 3): three columns.
using small_t = nnp::dataset<nnp::features<2>, nnp::classes<3>>;
small_t load_small(const std::string& path, nnp::csv_options opts = {}) {
    return nnp::load_csv<nnp::features<2>, nnp::classes<3>>(path, opts);
}

// The message of the data_error `f` throws ("" and a failed check if it throws nothing).
template <class F>
std::string data_error_of(F&& f) {
    try {
        f();
    } catch (const nnp::data_error& e) {
        return e.what();
    }
    FAIL_CHECK("no nnp::data_error was thrown");
    return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// A data set whose sample i is recognisable: x(i, 0) == i, x(i, 1) == 10 i, label i % C.
template <std::size_t C>
nnp::dataset<nnp::features<2>, nnp::classes<C>> numbered(std::size_t n) {
    nnp::dataset<nnp::features<2>, nnp::classes<C>> ds;
    ds.x = nnp::detail::float_matrix(n, 2);
    ds.y.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        ds.x(i, 0) = static_cast<float>(i);
        ds.x(i, 1) = static_cast<float>(10 * i);
        ds.y[i] = static_cast<int>(i % C);
    }
    return ds;
}

std::vector<std::size_t> class_counts(const std::vector<int>& y, std::size_t classes) {
    std::vector<std::size_t> counts(classes, 0);
    for (int label : y) {
        REQUIRE(label >= 0);
        REQUIRE(static_cast<std::size_t>(label) < classes);
        ++counts[static_cast<std::size_t>(label)];
    }
    return counts;
}

bool same(const iris_t& a, const iris_t& b) {
    return a.y == b.y && a.x.shape() == b.x.shape() &&
           std::equal(a.x.data(), a.x.data() + a.x.size(), b.x.data());
}

}  // namespace

TEST_CASE("dataset types follow their labels") {
    static_assert(iris_t::is_classification);
    static_assert(std::is_same_v<iris_t::y_type, std::vector<int>>);
    static_assert(std::is_same_v<iris_t::features_type, nnp::features<4>>);
    static_assert(std::is_same_v<iris_t::labels_type, nnp::classes<3>>);
    using reg_t = nnp::dataset<nnp::features<1, 2, 2>, nnp::targets<2>>;
    static_assert(!reg_t::is_classification);
    static_assert(std::is_same_v<reg_t::y_type, xt::xtensor<float, 2>>);
    static_assert(nnp::targets<2, 3>::shape::size == 6);
    static_assert(nnp::detail::is_classes<nnp::classes<2>>);
    static_assert(!nnp::detail::is_classes<nnp::targets<2>>);
    static_assert(std::is_base_of_v<nnp::error, nnp::data_error>);
    static_assert(std::is_base_of_v<std::runtime_error, nnp::error>);
    CHECK(iris_t{}.size() == 0);
}

TEST_CASE("iris loads with its shape, classes and exact values") {
    const iris_t iris = load_iris();
    REQUIRE(iris.size() == 150);
    REQUIRE(iris.x.shape()[0] == 150);
    REQUIRE(iris.x.shape()[1] == 4);
    REQUIRE(iris.y.size() == 150);
    CHECK(class_counts(iris.y, 3) == std::vector<std::size_t>{50, 50, 50});
    CHECK(iris.x(0, 0) == 5.1f);
    CHECK(iris.x(0, 1) == 3.5f);
    CHECK(iris.x(0, 2) == 1.4f);
    CHECK(iris.x(0, 3) == 0.2f);
    CHECK(iris.y[0] == 0);
    CHECK(iris.x(149, 0) == 5.9f);
    CHECK(iris.x(149, 3) == 1.8f);
    CHECK(iris.y[149] == 2);
}

TEST_CASE("digits loads 1797 x 64 with labels 0..9") {
    const digits_t digits = nnp::load_csv<nnp::features<64>, nnp::classes<10>>(digits_path);
    REQUIRE(digits.size() == 1797);
    REQUIRE(digits.x.shape()[1] == 64);
    const auto counts = class_counts(digits.y, 10);
    for (std::size_t c = 0; c < 10; ++c) CHECK(counts[c] > 150);
    CHECK(digits.x(0, 2) == 5.0f);
    CHECK(digits.x(0, 3) == 13.0f);
    CHECK(digits.y[0] == 0);
    CHECK(digits.y[1796] == 8);
    CHECK(*std::max_element(digits.x.begin(), digits.x.end()) == 16.0f);
    CHECK(*std::min_element(digits.x.begin(), digits.x.end()) == 0.0f);
    // A feature shape of rank 3 reads the same columns.
    const auto images = nnp::load_csv<nnp::features<1, 8, 8>, nnp::classes<10>>(digits_path);
    CHECK(images.x.shape()[1] == 64);
    CHECK(images.y == digits.y);
}

TEST_CASE("load_csv: file-level errors name the file") {
    temp_dir dir;
    SUBCASE("missing file") {
        const std::string path = (dir.path / "missing.csv").string();
        const std::string msg = data_error_of([&] { load_small(path); });
        CHECK(contains(msg, path));
        CHECK(contains(msg, "not found"));
    }
    SUBCASE("a directory") {
        const std::string msg = data_error_of([&] { load_small(dir.path.string()); });
        CHECK(contains(msg, dir.path.string()));
        CHECK(contains(msg, "directory"));
    }
    SUBCASE("empty file") {
        const std::string path = dir.write("empty.csv", "");
        const std::string msg = data_error_of([&] { load_small(path); });
        CHECK(contains(msg, path));
        CHECK(contains(msg, "empty"));
        CHECK(contains(data_error_of([&] { load_small(dir.write("blank.csv", "\n\r\n  \n")); }),
                       "empty"));
    }
    SUBCASE("header only") {
        const std::string path = dir.write("header.csv", "a,b,label\n");
        const std::string msg = data_error_of([&] { load_small(path); });
        CHECK(contains(msg, path));
        CHECK(contains(msg, "no data rows"));
    }
    SUBCASE("unreadable file") {
        const std::string path = dir.write("locked.csv", "a,b,label\n1,2,0\n");
        fs::permissions(path, fs::perms::none);
        if (!std::ifstream(path)) {  // root reads it anyway: nothing to test then
            const std::string msg = data_error_of([&] { load_small(path); });
            CHECK(contains(msg, path));
            CHECK(contains(msg, "cannot open"));
        }
        fs::permissions(path, fs::perms::owner_all);
    }
    SUBCASE("unusable delimiter") {
        const std::string path = dir.write("ok.csv", "a,b,label\n1,2,0\n");
        CHECK(contains(data_error_of([&] { load_small(path, {true, '.'}); }), "delimiter"));
    }
}

TEST_CASE("load_csv: row and cell errors name file, line and column") {
    temp_dir dir;
    struct bad_case {
        const char* name;
        std::string contents;
        std::vector<std::string> expected;  // substrings of the message, after the file name
    };
    const std::vector<bad_case> cases = {
        {"too_many.csv", "a,b,label\n1,2,0\n1,2,0,4\n", {":3: ", "expected 3 columns, found 4"}},
        {"too_few.csv", "a,b,label\n1,2,0\n1,2,0\n3,1\n", {":4: ", "expected 3 columns, found 2"}},
        {"header_cols.csv", "a,b\n1,2,0\n", {":1: ", "header has 2 columns, expected 3"}},
        {"text.csv", "a,b,label\n1,2,0\n1,abc,0\n", {":3: column 2: \"abc\" is not a number"}},
        {"partial.csv", "a,b,label\n1.5x,2,0\n", {":2: column 1: \"1.5x\" is not a number"}},
        {"empty_cell.csv", "a,b,label\n1,2,0\n4,,1\n", {":3: column 2: empty cell"}},
        {"blank_cell.csv", "a,b,label\n1,2,0\n4, ,1\n", {":3: column 2: empty cell"}},
        {"nan.csv", "a,b,label\n1,2,0\nnan,2,0\n", {":3: column 1: ", "\"nan\"", "finite"}},
        {"NaN.csv", "a,b,label\n1,NaN,0\n", {":2: column 2: ", "finite"}},
        {"inf.csv", "a,b,label\n1,2,0\n1,inf,0\n", {":3: column 2: ", "\"inf\"", "finite"}},
        {"neg_inf.csv", "a,b,label\n-Infinity,2,0\n", {":2: column 1: ", "finite"}},
        {"nan_label.csv", "a,b,label\n1,2,nan\n", {":2: column 3: ", "finite"}},
        {"huge.csv", "a,b,label\n1,1e999,0\n", {":2: column 2: ", "out of range"}},
        {"above_float.csv", "a,b,label\n1,1e300,0\n", {":2: column 2: ", "out of range for float"}},
        {"fraction.csv", "a,b,label\n1,2,0\n1,2,1.5\n",
         {":3: column 3: label 1.5 is not an integer"}},
        {"negative.csv", "a,b,label\n1,2,-1\n", {":2: column 3: label -1 out of range [0, 3)"}},
        {"too_big.csv", "a,b,label\n1,2,0\n1,2,2\n1,2,3\n",
         {":4: column 3: label 3 out of range [0, 3) for classes<3>"}},
        {"inner_blank.csv", "a,b,label\n1,2,0\n\n1,2,1\n", {":3: ", "empty line"}},
        {"crlf_bad.csv", "a,b,label\r\n1,2,0\r\n1,x,0\r\n",
         {":3: column 2: \"x\" is not a number"}},
        {"binary.csv", std::string("a,b,label\n1,\x01\xff\0,0\n", 18), {":2: column 2: ", "\\x01"}},
        // A missing header would swallow the first data row: an all-numeric first line is refused.
        {"no_header.csv", "1,2,0\n3,4,1\n", {":1: ", "the header line is missing", ".header = false"}},
        {"no_header_crlf.csv", "\xEF\xBB\xBF 1.5 ,+2,0\r\n3,4,1\r\n", {":1: ", "header line is missing"}},
        {"no_header_inf.csv", "1,inf,0\n3,4,1\n", {":1: ", "header line is missing"}},
        {"no_header_huge.csv", "1,1e999,0\n3,4,1\n", {":1: ", "header line is missing"}},
        {"no_header_short.csv", "1,2\n3,4\n", {":1: ", "header line is missing"}},
    };
    for (const bad_case& c : cases) {
        CAPTURE(c.name);
        const std::string path = dir.write(c.name, c.contents);
        const std::string msg = data_error_of([&] { load_small(path); });
        CAPTURE(msg);
        CHECK(contains(msg, path + ":"));
        for (const std::string& part : c.expected) CHECK(contains(msg, part));
    }
}

TEST_CASE("load_csv: accepted variations") {
    temp_dir dir;
    const auto expect_two_rows = [](const small_t& ds) {
        REQUIRE(ds.size() == 2);
        CHECK(ds.x(0, 0) == 1.0f);
        CHECK(ds.x(0, 1) == -2.5f);
        CHECK(ds.x(1, 0) == 3e-2f);
        CHECK(ds.x(1, 1) == 4.0f);
        CHECK(ds.y == std::vector<int>{0, 2});
    };
    expect_two_rows(load_small(dir.write("lf.csv", "a,b,label\n1,-2.5,0\n3e-2,4,2\n")));
    expect_two_rows(load_small(dir.write("crlf.csv", "a,b,label\r\n1,-2.5,0\r\n3e-2,4,2\r\n")));
    expect_two_rows(load_small(dir.write("no_eol.csv", "a,b,label\n1,-2.5,0\n3e-2,4,2")));
    expect_two_rows(load_small(dir.write("trailing.csv", "a,b,label\n1,-2.5,0\n3e-2,4,2\n\n")));
    expect_two_rows(
        load_small(dir.write("trailing_crlf.csv", "a,b,label\r\n1,-2.5,0\r\n3e-2,4,2\r\n\r\n")));
    expect_two_rows(
        load_small(dir.write("spaces.csv", "a, b, label\n 1 , -2.5,0\n+3e-2,4.0,2.0\n")));
    expect_two_rows(
        load_small(dir.write("bom.csv", "\xEF\xBB\xBF" "a,b,label\n1,-2.5,0\n3e-2,4,2\n")));
    expect_two_rows(load_small(dir.write("no_header.csv", "1,-2.5,0\n3e-2,4,2\n"), {false, ','}));
    expect_two_rows(load_small(dir.write("semicolon.csv", "a;b;label\n1;-2.5;0\n3e-2;4;2\n"),
                               {true, ';'}));
    // A header whose names are mostly numbers is still a header: one name is enough.
    expect_two_rows(load_small(dir.write("numbered.csv", "0,1,label\n1,-2.5,0\n3e-2,4,2\n")));
    expect_two_rows(load_small(dir.write("unnamed.csv", "1,,2\n1,-2.5,0\n3e-2,4,2\n")));
    // Without a header a text first line is data, and is reported as such.
    const std::string msg =
        data_error_of([&] { load_small(dir.write("h.csv", "a,b,label\n1,2,0\n"), {false, ','}); });
    CHECK(contains(msg, ":1: column 1: \"a\" is not a number"));
}

TEST_CASE("load_csv: regression targets") {
    temp_dir dir;
    const std::string path = dir.write("reg.csv", "x0,x1,x2,t0,t1\n1,2,3,0.5,-4\n4,5,6,7,8\n");
    const auto ds = nnp::load_csv<nnp::features<3>, nnp::targets<2>>(path);
    REQUIRE(ds.size() == 2);
    REQUIRE(ds.y.shape()[0] == 2);
    REQUIRE(ds.y.shape()[1] == 2);
    CHECK(ds.x(1, 2) == 6.0f);
    CHECK(ds.y(0, 0) == 0.5f);
    CHECK(ds.y(0, 1) == -4.0f);
    CHECK(ds.y(1, 1) == 8.0f);
    // Targets may be any finite value: no integer or range check.
    const auto wrong =
        data_error_of([&] { nnp::load_csv<nnp::features<3>, nnp::targets<1>>(path); });
    CHECK(contains(wrong, ":1: the header has 5 columns, expected 4"));
}

TEST_CASE("load_csv survives mutated input") {
    // Random byte edits of a valid file: each must either load or throw data_error (and, under
    // the sanitizers, do nothing undefined on the way).
    temp_dir dir;
    const std::string valid = "a,b,label\r\n1.5,-2,0\n3e2,4,2\n0,0,1\n\n";
    const std::string alphabet = std::string(",;.\n\r -+eE0129nainfx\t\"", 22) + '\0' + '\xff';
    nnp::rng r(nnp::seed{2024});
    int loaded = 0;
    int rejected = 0;
    for (int round = 0; round < 300; ++round) {
        std::string text = valid;
        const auto edits = 1 + r.below(4);
        for (std::uint64_t e = 0; e < edits; ++e) {
            const auto pos = r.below(text.size() + 1);
            const char c = alphabet[r.below(alphabet.size())];
            switch (r.below(3)) {
                case 0:
                    if (pos < text.size()) text[pos] = c;
                    break;
                case 1: text.insert(text.begin() + static_cast<std::ptrdiff_t>(pos), c); break;
                default:
                    if (pos < text.size()) text.erase(pos, 1);
            }
        }
        const std::string path = dir.write("fuzz.csv", text);
        try {
            const small_t ds = load_small(path);
            CHECK(ds.size() == ds.y.size());
            ++loaded;
        } catch (const nnp::data_error& e) {
            CHECK(contains(e.what(), path));
            ++rejected;
        }
    }
    CHECK(loaded + rejected == 300);
    CHECK(rejected > 0);
}

TEST_CASE("subset, take and shuffled") {
    const iris_t iris = load_iris();
    const iris_t picked = nnp::subset(iris, {149, 0, 0});
    REQUIRE(picked.size() == 3);
    CHECK(picked.x(0, 0) == 5.9f);
    CHECK(picked.x(1, 0) == 5.1f);
    CHECK(picked.y == std::vector<int>{2, 0, 0});
    CHECK(contains(data_error_of([&] { nnp::subset(iris, {3, 150}); }), "150"));

    const iris_t first = nnp::take(iris, 10);
    CHECK(first.size() == 10);
    CHECK(first.x(9, 0) == iris.x(9, 0));
    CHECK(nnp::first_n(iris, 150).size() == 150);
    CHECK(nnp::take(iris, 0).size() == 0);
    const std::string msg = data_error_of([&] { nnp::take(iris, 151); });
    CHECK(contains(msg, "151"));
    CHECK(contains(msg, "150"));

    SUBCASE("a hand-built data set that disagrees with its type is refused, naming the part") {
        iris_t wide = nnp::take(iris, 4);
        wide.x = nnp::detail::float_matrix(4, 5);
        CHECK(contains(data_error_of([&] { nnp::subset(wide, {0}); }), "x has 5 columns but its features need 4"));
        iris_t unlabelled = nnp::take(iris, 4);
        unlabelled.y.pop_back();
        CHECK(contains(data_error_of([&] { nnp::subset(unlabelled, {0}); }), "x has 4 samples but y has 3"));
        nnp::dataset<nnp::features<2>, nnp::targets<3>> reg;
        reg.x = nnp::detail::float_matrix(2, 2);
        reg.y = nnp::detail::float_matrix(2, 2);
        CHECK(contains(data_error_of([&] { nnp::subset(reg, {0}); }), "y has 2 columns but its targets need 3"));
        reg.y = nnp::detail::float_matrix(3, 3);
        CHECK(contains(data_error_of([&] { nnp::subset(reg, {0}); }), "x has 2 samples but y has 3"));
    }
    SUBCASE("a subset of regression targets keeps each sample's targets") {
        nnp::dataset<nnp::features<2>, nnp::targets<3>> reg;
        reg.x = nnp::detail::float_matrix(2, 2);
        reg.y = nnp::detail::float_matrix(2, 3);
        for (std::size_t i = 0; i < 2; ++i) {
            for (std::size_t j = 0; j < 2; ++j) reg.x(i, j) = static_cast<float>(10 * i + j);
            for (std::size_t j = 0; j < 3; ++j) reg.y(i, j) = static_cast<float>(100 * i + j);
        }
        const auto r = nnp::subset(reg, {1, 1, 0});
        REQUIRE(r.size() == 3);
        REQUIRE(r.y.shape()[0] == 3);
        REQUIRE(r.y.shape()[1] == 3);
        const std::size_t from[] = {1, 1, 0};
        for (std::size_t i = 0; i < 3; ++i) {
            for (std::size_t j = 0; j < 2; ++j) CHECK(r.x(i, j) == reg.x(from[i], j));
            for (std::size_t j = 0; j < 3; ++j) CHECK(r.y(i, j) == reg.y(from[i], j));
        }
        CHECK(contains(data_error_of([&] { nnp::subset(reg, {0, 2}); }), "row 2 is out of range for a data set of 2"));
    }

    SUBCASE("shuffled keeps each sample with its label") {
        const auto ds = numbered<7>(200);
        const auto mixed = nnp::shuffled(ds, nnp::seed{5});
        REQUIRE(mixed.size() == 200);
        std::set<std::size_t> seen;
        bool moved = false;
        for (std::size_t i = 0; i < mixed.size(); ++i) {
            const auto id = static_cast<std::size_t>(mixed.x(i, 0));
            CHECK(mixed.x(i, 1) == static_cast<float>(10 * id));
            CHECK(mixed.y[i] == static_cast<int>(id % 7));
            seen.insert(id);
            moved = moved || id != i;
        }
        CHECK(seen.size() == 200);
        CHECK(moved);
        CHECK(nnp::shuffled(ds, nnp::seed{5}).x == mixed.x);
        CHECK(nnp::shuffled(ds, nnp::seed{6}).x != mixed.x);
        // On iris: every shuffled row is an original row with the same label.
        const iris_t s = nnp::shuffled(iris, nnp::seed{1});
        for (std::size_t i = 0; i < s.size(); ++i) {
            bool found = false;
            for (std::size_t j = 0; j < iris.size() && !found; ++j)
                found = iris.y[j] == s.y[i] && iris.x(j, 0) == s.x(i, 0) &&
                        iris.x(j, 1) == s.x(i, 1) && iris.x(j, 2) == s.x(i, 2) &&
                        iris.x(j, 3) == s.x(i, 3);
            CHECK(found);
        }
    }
}

TEST_CASE("standardiser") {
    iris_t iris = load_iris();
    const iris_t raw = iris;
    const nnp::standardiser st = nnp::standardise(iris);
    REQUIRE(st.mean.size() == 4);
    REQUIRE(st.scale.size() == 4);
    CHECK(st.mean(0) == doctest::Approx(5.8433).epsilon(1e-4));
    for (std::size_t j = 0; j < 4; ++j) {
        double sum = 0, sq = 0;
        for (std::size_t i = 0; i < iris.size(); ++i) sum += iris.x(i, j);
        const double mean = sum / 150.0;
        for (std::size_t i = 0; i < iris.size(); ++i) {
            const double dev = iris.x(i, j) - mean;
            sq += dev * dev;
        }
        CHECK(std::fabs(mean) < 1e-5);
        CHECK(std::sqrt(sq / 150.0) == doctest::Approx(1.0).epsilon(1e-5));
    }
    // The fitted transform applies unchanged to other data (a held-out set, say).
    xt::xtensor<float, 2> other = nnp::take(raw, 2).x;
    st.apply(other);
    CHECK(other(1, 2) == iris.x(1, 2));

    SUBCASE("a constant column is centred, not divided by zero") {
        xt::xtensor<float, 2> x = nnp::detail::float_matrix(3, 2);
        x(0, 0) = 0.1f; x(1, 0) = 0.1f; x(2, 0) = 0.1f;
        x(0, 1) = 1.0f; x(1, 1) = 2.0f; x(2, 1) = 3.0f;
        const auto s = nnp::standardiser::fit(x);
        CHECK(s.scale(0) == 1.0f);
        s.apply(x);
        for (std::size_t i = 0; i < 3; ++i) {
            CHECK(std::isfinite(x(i, 0)));
            CHECK(x(i, 0) == 0.0f);
        }
        CHECK(x(0, 1) == doctest::Approx(-1.2247449));
    }
    SUBCASE("errors") {
        xt::xtensor<float, 2> empty = nnp::detail::float_matrix(0, 4);
        CHECK_THROWS_AS(nnp::standardiser::fit(empty), nnp::data_error);
        xt::xtensor<float, 2> wrong = nnp::detail::float_matrix(2, 3);
        CHECK_THROWS_AS(st.apply(wrong), nnp::data_error);
    }
}

TEST_CASE("stratified") {
    const iris_t iris = load_iris();
    const iris_t s = nnp::stratified(iris, 10, nnp::seed{3});
    REQUIRE(s.size() == 30);
    CHECK(class_counts(s.y, 3) == std::vector<std::size_t>{10, 10, 10});
    CHECK(same(s, nnp::stratified(iris, 10, nnp::seed{3})));
    CHECK(!same(s, nnp::stratified(iris, 10, nnp::seed{4})));
    // Interleaved, not grouped by class as in the file.
    CHECK(!std::is_sorted(s.y.begin(), s.y.end()));
    // Every sample is a distinct original sample with its own label.
    {
        const auto ds = numbered<4>(103);
        const auto picked = nnp::stratified(ds, 25, nnp::seed{9});
        std::set<float> ids;
        for (std::size_t i = 0; i < picked.size(); ++i) {
            const auto id = static_cast<std::size_t>(picked.x(i, 0));
            CHECK(picked.y[i] == static_cast<int>(id % 4));
            ids.insert(picked.x(i, 0));
        }
        CHECK(ids.size() == 100);
    }
    // The whole of each class when k equals its size.
    CHECK(nnp::stratified(iris, 50, nnp::seed{1}).size() == 150);

    SUBCASE("a chosen set of classes") {
        const iris_t two = nnp::stratified(iris, 7, nnp::seed{3}, {2, 0});
        REQUIRE(two.size() == 14);
        CHECK(class_counts(two.y, 3) == std::vector<std::size_t>{7, 0, 7});
        // The listing order does not matter, and class 0 gets the same samples as when all
        // classes are picked (one random stream per class).
        CHECK(same(two, nnp::stratified(iris, 7, nnp::seed{3}, {0, 2})));
        std::multiset<float> from_two, from_all;
        const iris_t all = nnp::stratified(iris, 7, nnp::seed{3});
        for (std::size_t i = 0; i < 14; ++i)
            if (two.y[i] == 0) from_two.insert(two.x(i, 0) * 100 + two.x(i, 1));
        for (std::size_t i = 0; i < 21; ++i)
            if (all.y[i] == 0) from_all.insert(all.x(i, 0) * 100 + all.x(i, 1));
        CHECK(from_two == from_all);
    }
    SUBCASE("errors") {
        const std::string few = data_error_of([&] { nnp::stratified(iris, 51, nnp::seed{1}); });
        CHECK(contains(few, "class 0"));
        CHECK(contains(few, "50"));
        CHECK(contains(few, "51"));
        CHECK(contains(data_error_of([&] { nnp::stratified(iris, 0, nnp::seed{1}); }),
                       "per_class"));
        const iris_t setosa = nnp::take(iris, 50);
        CHECK(contains(data_error_of([&] { nnp::stratified(setosa, 5, nnp::seed{1}); }),
                       "a stratified subset needs at least two classes"));
        const std::string missing =
            data_error_of([&] { nnp::stratified(nnp::take(iris, 100), 5, nnp::seed{1}); });
        CHECK(contains(missing, "class 2 has 0 samples"));
        CHECK(nnp::stratified(nnp::take(iris, 100), 5, nnp::seed{1}, {0, 1}).size() == 10);
        CHECK(contains(data_error_of([&] { nnp::stratified(iris, 5, nnp::seed{1}, {1}); }),
                       "at least two classes"));
        CHECK(contains(data_error_of([&] { nnp::stratified(iris, 5, nnp::seed{1}, {0, 3}); }),
                       "class 3 is out of range [0, 3)"));
        CHECK(contains(data_error_of([&] { nnp::stratified(iris, 5, nnp::seed{1}, {-1, 0}); }),
                       "class -1"));
        CHECK(contains(data_error_of([&] { nnp::stratified(iris, 5, nnp::seed{1}, {1, 1}); }),
                       "listed twice"));
        CHECK(contains(data_error_of([&] { nnp::stratified(iris, 60, nnp::seed{1}, {0, 1}); }),
                       "class 0 has 50 samples, 60 were asked for"));
        iris_t bad = nnp::take(iris, 10);
        bad.y[3] = 7;
        CHECK(contains(data_error_of([&] { nnp::stratified(bad, 1, nnp::seed{1}); }), "label 7"));
    }
}

TEST_CASE("batcher") {
    SUBCASE("every sample once per epoch, reshuffled, without reallocation") {
        const auto ds = numbered<3>(150);
        nnp::batcher b(ds, 30, nnp::seed{11});
        REQUIRE(b.batches_per_epoch() == 5);
        REQUIRE(b.batch_size() == 30);
        xt::xtensor<float, 2> x;
        std::vector<int> y;
        std::vector<std::size_t> epoch_orders[2];
        const float* x_data = nullptr;
        const int* y_data = nullptr;
        for (int epoch = 0; epoch < 2; ++epoch) {
            std::vector<int> seen(150, 0);
            for (std::size_t k = 0; k < b.batches_per_epoch(); ++k) {
                b.next(x, y);
                REQUIRE(x.shape()[0] == 30);
                REQUIRE(x.shape()[1] == 2);
                REQUIRE(y.size() == 30);
                if (x_data == nullptr) {
                    x_data = x.data();
                    y_data = y.data();
                } else {
                    CHECK(x.data() == x_data);
                    CHECK(y.data() == y_data);
                }
                for (std::size_t i = 0; i < 30; ++i) {
                    const auto id = static_cast<std::size_t>(x(i, 0));
                    REQUIRE(id < 150);
                    CHECK(x(i, 1) == static_cast<float>(10 * id));
                    CHECK(y[i] == static_cast<int>(id % 3));
                    ++seen[id];
                    epoch_orders[epoch].push_back(id);
                }
            }
            CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
        }
        CHECK(epoch_orders[0] != epoch_orders[1]);
        std::vector<std::size_t> identity(150);
        std::iota(identity.begin(), identity.end(), std::size_t{0});
        CHECK(epoch_orders[0] != identity);
    }
    SUBCASE("seeded: same seed, same batches; other seed, other batches") {
        const iris_t iris = load_iris();
        nnp::batcher a(iris, 16, nnp::seed{1});
        nnp::batcher b(iris, 16, nnp::seed{1});
        nnp::batcher c(iris, 16, nnp::seed{2});
        xt::xtensor<float, 2> xa, xb, xc;
        std::vector<int> ya, yb, yc;
        bool differs = false;
        for (int k = 0; k < 25; ++k) {  // crosses epoch boundaries (9 batches per epoch)
            a.next(xa, ya);
            b.next(xb, yb);
            c.next(xc, yc);
            CHECK(xa == xb);
            CHECK(ya == yb);
            differs = differs || xa != xc;
        }
        CHECK(differs);
    }
    SUBCASE("the last partial batch is dropped") {
        const auto ds = numbered<2>(70);
        nnp::batcher b(ds, 32, nnp::seed{4});
        CHECK(b.batches_per_epoch() == 2);
        xt::xtensor<float, 2> x;
        std::vector<int> y;
        std::set<std::size_t> ids;
        for (int k = 0; k < 2; ++k) {
            b.next(x, y);
            for (std::size_t i = 0; i < 32; ++i) ids.insert(static_cast<std::size_t>(x(i, 0)));
        }
        CHECK(ids.size() == 64);
    }
    SUBCASE("a data set smaller than a batch is one batch, in order without shuffle") {
        const auto ds = numbered<2>(10);
        nnp::batcher b(ds, 32, nnp::seed{4}, false);
        CHECK(b.batch_size() == 10);
        CHECK(b.batches_per_epoch() == 1);
        xt::xtensor<float, 2> x = nnp::detail::float_matrix(5, 7);  // wrong shape: resized once
        std::vector<int> y;
        for (int k = 0; k < 3; ++k) {
            b.next(x, y);
            REQUIRE(x.shape()[0] == 10);
            for (std::size_t i = 0; i < 10; ++i) CHECK(x(i, 0) == static_cast<float>(i));
        }
    }
    SUBCASE("regression targets") {
        nnp::dataset<nnp::features<2>, nnp::targets<3>> ds;
        ds.x = nnp::detail::float_matrix(8, 2);
        ds.y = nnp::detail::float_matrix(8, 3);
        for (std::size_t i = 0; i < 8; ++i) {
            ds.x(i, 0) = static_cast<float>(i);
            ds.x(i, 1) = 0;
            for (std::size_t t = 0; t < 3; ++t) ds.y(i, t) = static_cast<float>(100 * i + t);
        }
        nnp::batcher b(ds, 4, nnp::seed{8});
        xt::xtensor<float, 2> x, y;
        b.next(x, y);
        REQUIRE(y.shape()[0] == 4);
        REQUIRE(y.shape()[1] == 3);
        const float* y_data = y.data();
        b.next(x, y);
        CHECK(y.data() == y_data);
        for (std::size_t i = 0; i < 4; ++i)
            for (std::size_t t = 0; t < 3; ++t)
                CHECK(y(i, t) == 100 * x(i, 0) + static_cast<float>(t));
    }
    SUBCASE("errors") {
        const iris_t iris = load_iris();
        CHECK_THROWS_AS(nnp::batcher(iris, 0, nnp::seed{1}), nnp::data_error);
        const iris_t empty = nnp::take(iris, 0);
        CHECK_THROWS_AS(nnp::batcher(empty, 8, nnp::seed{1}), nnp::data_error);
        iris_t broken = iris;
        broken.y.pop_back();
        CHECK_THROWS_AS(nnp::batcher(broken, 8, nnp::seed{1}), nnp::data_error);
        // A data set edited after the batcher was made is reported, not read out of bounds.
        iris_t shrinking = iris;
        nnp::batcher b(shrinking, 8, nnp::seed{1});
        shrinking = nnp::take(iris, 20);
        xt::xtensor<float, 2> x;
        std::vector<int> y;
        CHECK_THROWS_AS(b.next(x, y), nnp::data_error);
    }
}

// ---- .npy files, written here as numpy.save writes them -------------------------------------

namespace {
// A .npy file: the version-1.0 header padded to 64 bytes (version 2.0 when asked), then the data.
template <class V>
std::string npy_bytes(const std::string& descr, const std::string& shape, const std::vector<V>& values,
                      bool fortran = false, bool big_endian = false, int version = 1) {
    std::string header = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                         ", 'shape': " + shape + ", }";
    const std::size_t fixed = version == 1 ? 10 : 12;
    while ((fixed + header.size() + 1) % 64) header += ' ';
    header += '\n';
    std::string out = "\x93NUMPY";
    out += static_cast<char>(version);
    out += '\0';
    const std::size_t n = header.size();
    out += static_cast<char>(n & 0xff);
    out += static_cast<char>(n >> 8);
    if (version != 1) out += std::string(2, '\0');
    out += header;
    for (V v : values) {
        char b[sizeof(V)];
        std::memcpy(b, &v, sizeof(V));
        if (big_endian) std::reverse(b, b + sizeof(V));
        out.append(b, sizeof(V));
    }
    return out;
}
using image_set = nnp::dataset<nnp::features<1, 2, 3>, nnp::classes<3>>;
}  // namespace

TEST_CASE("load_npy: float32, float64, uint8 features; C and Fortran order; integer labels") {
    temp_dir dir;
    std::vector<float> x(4 * 6);
    std::iota(x.begin(), x.end(), 0.0f);  // sample r, pixel (h, w): 6r + 3h + w
    const std::string y = dir.write("y.npy", npy_bytes<std::uint8_t>("|u1", "(4,)", {0, 2, 1, 2}));
    const auto c = nnp::load_npy<nnp::features<1, 2, 3>, nnp::classes<3>>(
        dir.write("x.npy", npy_bytes("<f4", "(4, 1, 2, 3)", x)), y);
    REQUIRE(c.size() == 4);
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(c.x.data()[i] == x[i]);
    CHECK(c.y == std::vector<int>{0, 2, 1, 2});

    // The same array stored in Fortran order as float64, and big-endian: the same data set.
    std::vector<double> f(x.size());
    for (std::size_t r = 0; r < 4; ++r)
        for (std::size_t h = 0; h < 2; ++h)
            for (std::size_t w = 0; w < 3; ++w) f[r + 4 * (h + 2 * w)] = x[6 * r + 3 * h + w];
    for (bool big : {false, true}) {
        const auto fo = nnp::load_npy<nnp::features<1, 2, 3>, nnp::classes<3>>(
            dir.write("f.npy", npy_bytes(big ? ">f8" : "<f8", "(4, 1, 2, 3)", f, true, big)), y);
        CHECK(fo.x == c.x);
    }
    // Flat rows of C*H*W uint8 values, int64 labels of shape (N, 1), a version-2.0 header.
    std::vector<std::uint8_t> u(x.begin(), x.end());
    const auto flat = nnp::load_npy<nnp::features<1, 2, 3>, nnp::classes<3>>(
        dir.write("u.npy", npy_bytes("|u1", "(4, 6)", u, false, false, 2)),
        dir.write("y64.npy", npy_bytes<std::int64_t>("<i8", "(4, 1)", {0, 2, 1, 2})));
    CHECK(flat.x == c.x);
    CHECK(flat.y == c.y);
    // Regression targets.
    const auto reg = nnp::load_npy<nnp::features<6>, nnp::targets<2>>(
        dir.write("xr.npy", npy_bytes("<f4", "(4, 6)", x)),
        dir.write("yr.npy", npy_bytes<float>("<f4", "(4, 2)", {1, 2, 3, 4, 5, 6, 7, 8})));
    CHECK(reg.y(3, 1) == 8.0f);
}

TEST_CASE("load_npy: errors name the file and the expected against the actual shape or dtype") {
    temp_dir dir;
    std::vector<float> x(4 * 6, 1.0f);
    const std::string y = dir.write("y.npy", npy_bytes<std::uint8_t>("|u1", "(4,)", {0, 2, 1, 2}));
    const std::string good = dir.write("x.npy", npy_bytes("<f4", "(4, 1, 2, 3)", x));
    auto load = [&](const std::string& xp, const std::string& yp) { return nnp::load_npy<nnp::features<1, 2, 3>, nnp::classes<3>>(xp, yp); };
    auto says = [&](const std::string& xp, const std::string& yp, std::initializer_list<const char*> parts) {
        const std::string msg = data_error_of([&] { load(xp, yp); });
        INFO(msg);
        for (const char* p : parts) CHECK(contains(msg, p));
    };
    // H x W x C saved where C x H x W is declared
    const std::string hwc = dir.write("hwc.npy", npy_bytes("<f4", "(4, 2, 3, 1)", x));
    says(hwc, y, {hwc.c_str(), "shape (4, 2, 3, 1) does not fit features<1, 2, 3>: expected (N, 1, 2, 3) or (N, 6)"});
    const std::string ints = dir.write("i.npy", npy_bytes<std::int32_t>("<i4", "(4, 6)", std::vector<std::int32_t>(24, 1)));
    says(ints, y, {ints.c_str(), "dtype int32 for features<1, 2, 3>: expected float32, float64 or uint8"});
    const std::string complex = dir.write("c.npy", npy_bytes<double>("<c8", "(4, 6)", std::vector<double>(24)));
    says(complex, y, {complex.c_str(), "unsupported dtype '<c8'"});
    const std::string whole = npy_bytes("<f4", "(4, 1, 2, 3)", x);
    const std::string cut = dir.write("cut.npy", whole.substr(0, whole.size() - 6));
    says(cut, y, {cut.c_str(), "shape (4, 1, 2, 3) of float32 needs 96 bytes of data, the file holds 90"});
    const std::string text = dir.write("x.csv", "1,2,3\n");
    says(text, y, {text.c_str(), "not a .npy file"});
    says(dir.path.string() + "/none.npy", y, {"none.npy: file not found"});
    // labels
    const std::string fy = dir.write("fy.npy", npy_bytes<float>("<f4", "(4,)", {0, 1, 2, 1}));
    says(good, fy, {fy.c_str(), "dtype float32 for classes<3>: expected an integer dtype"});
    const std::string y2 = dir.write("y2.npy", npy_bytes<std::uint8_t>("|u1", "(2, 2)", {0, 1, 2, 1}));
    says(good, y2, {y2.c_str(), "shape (2, 2) does not fit classes<3>: expected (N,) or (N, 1)"});
    const std::string y3 = dir.write("y3.npy", npy_bytes<std::uint8_t>("|u1", "(3,)", {0, 1, 2}));
    says(good, y3, {"holds 4 samples but", "holds 3 labels"});
    const std::string big = dir.write("big.npy", npy_bytes<std::uint8_t>("|u1", "(4,)", {0, 1, 3, 1}));
    says(good, big, {big.c_str(), "label 3 of sample 2 is out of range [0, 3)"});
    // nothing half-loaded: the caller's data set is untouched by a failed load
    image_set ds = load(good, y);
    try {
        ds = load(good, big);
    } catch (const nnp::data_error&) {
    }
    CHECK(ds.size() == 4);
    CHECK(ds.y[2] == 1);
}

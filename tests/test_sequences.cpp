// Sequence models: token data sets and their loader, padded batches with masks, the sequence
// layers' gradients in double with masks of several lengths, a small model end to end, and
// the sequence probes (padding_invariance, causality) on healthy and injected-bug models.
#include <doctest/doctest.h>

#include <nnprobe/gradient_check.hpp>
#include <nnprobe/layers/attention.hpp>
#include <nnprobe/layers/dropout.hpp>
#include <nnprobe/layers/embedding.hpp>
#include <nnprobe/layers/masked_pooling.hpp>
#include <nnprobe/layers/normalisation.hpp>
#include <nnprobe/layers/softmax.hpp>
#include <nnprobe/loss.hpp>
#include <nnprobe/model.hpp>
#include <nnprobe/optimizer.hpp>
#include <nnprobe/probes.hpp>
#include <nnprobe/probes/causality.hpp>
#include <nnprobe/probes/doctest.hpp>
#include <nnprobe/probes/injected_sequence_bugs.hpp>
#include <nnprobe/probes/padding_invariance.hpp>
#include <nnprobe/token_data.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

void require_pass(const nnp::gradient_check_result& r) {
    INFO(r.explain());
    CHECK(r.ok);
    CHECK(r.problems.empty());
    CHECK(r.entries_checked > 0);
}

// A file in the temporary directory, removed at the end of the scope.
struct temp_file {
    std::string path;
    explicit temp_file(const std::string& name, const std::string& text)
        : path((std::filesystem::temp_directory_path() / ("nnp_seq_" + name)).string()) {
        std::ofstream(path, std::ios::binary) << text;
    }
    ~temp_file() { std::remove(path.c_str()); }
};

// The message of the data_error that `load` throws, or "" when it throws none.
template <class F>
std::string error_of(F&& load) {
    try {
        load();
    } catch (const nnp::data_error& e) {
        return e.what();
    }
    return "";
}

// What the checks read from the types: C8 (a plain mean over a padded axis) and C1 (flatten
// would fix a batch-dependent length into features).
static_assert(nnp::detail::ignores_padding<nnp::mean_over_positions_t, nnp::sequence<4, 2>>());
static_assert(!nnp::detail::ignores_padding<nnp::mean_over_positions_t, nnp::sequence<4, 2, false>>());
static_assert(!nnp::detail::ignores_padding<nnp::masked_mean_pool_t, nnp::sequence<4, 2>>());
static_assert(!nnp::detail::ignores_padding<nnp::self_attention_t<2>, nnp::sequence<4, 2>>());
static_assert(!nnp::detail::layer_accepts<nnp::flatten_t, nnp::sequence<4, 2>>());
static_assert(nnp::detail::layer_accepts<nnp::flatten_t, nnp::shape<1, 4, 4>>());
// softmax works per position; batch_norm's batch statistics would count the padding: C1,
// with a message that points at layer_norm (tests/compile_fail/c1_batch_norm_sequence.cpp).
static_assert(nnp::detail::layer_accepts<nnp::softmax_t, nnp::sequence<4, 2>>());
static_assert(nnp::detail::layer_accepts<nnp::dropout_t, nnp::sequence<4, 2>>());
static_assert(!nnp::detail::layer_accepts<nnp::batch_norm_t, nnp::sequence<4, 2>>());
static_assert(nnp::detail::batch_statistics<nnp::batch_norm_t>());
// C1: every sequence node keeps the input's length axis, the one the mask describes.
static_assert(!nnp::detail::foreign_length_axis<nnp::sequence<8, 2>, nnp::sequence<8, 1>>());
static_assert(!nnp::detail::foreign_length_axis<nnp::sequence<8, 2, false>, nnp::sequence<8, 1>>());
static_assert(nnp::detail::foreign_length_axis<nnp::sequence<4, 2>, nnp::sequence<8, 1>>());
static_assert(nnp::detail::foreign_length_axis<nnp::sequence<4, 4>, nnp::shape<16>>());
static_assert(!nnp::detail::foreign_length_axis<nnp::shape<4>, nnp::sequence<8, 1>>());
static_assert(nnp::detail::uses_mask<nnp::masked_mean_pool_t>());
static_assert(!nnp::detail::uses_mask<nnp::mean_over_positions_t>());

// Batches of masks of several shapes: none padded, one short sample, extra padding.
const std::vector<std::vector<std::size_t>> mask_cases = {{3, 3, 3}, {1, 4, 2}, {5, 1}};

}  // namespace

TEST_CASE("token sequences: a file loads with its labels and ids in order") {
    temp_file f("ok.txt", "1 3 4 5\n\n0 7\r\n1  2\t9 9 \n");
    const auto ds = nnp::load_token_sequences<10, 4, 2>(f.path);
    REQUIRE(ds.size() == 3);
    CHECK(ds.labels == std::vector<int>{1, 0, 1});
    CHECK(ds.tokens[0] == std::vector<std::uint32_t>{3, 4, 5});
    CHECK(ds.tokens[1] == std::vector<std::uint32_t>{7});
    CHECK(ds.tokens[2] == std::vector<std::uint32_t>{2, 9, 9});
}

TEST_CASE("token sequences: bad files are errors naming file, line and column") {
    auto load = [](const std::string& name, const std::string& text) {
        temp_file f(name, text);
        return std::pair{f.path, error_of([&] { nnp::load_token_sequences<10, 4, 2>(f.path); })};
    };
    {
        auto [path, e] = load("vocab.txt", "1 3 4\n0 2 10 3\n");
        INFO(e);
        CHECK(contains(e, path + ":2: column 3: token id 10 is outside the vocabulary [1, 10)"));
    }
    {
        auto [path, e] = load("padid.txt", "1 0\n");
        CHECK(contains(e, path + ":1: column 2: token id 0"));
        CHECK(contains(e, "padding id"));
    }
    {
        auto [path, e] = load("empty.txt", "1 3\n\n0\n");
        INFO(e);
        CHECK(contains(e, path + ":3: column 2: empty sequence"));
    }
    {
        auto [path, e] = load("long.txt", "1 1 2 3 4 5\n");
        INFO(e);
        CHECK(contains(e, path + ":1: column 6: the sequence is longer than the maximum length 4"));
    }
    {
        auto [path, e] = load("label.txt", "2 3\n");
        CHECK(contains(e, path + ":1: column 1: label 2 is outside [0, 2)"));
    }
    {
        auto [path, e] = load("junk.txt", "1 3 x4\n");
        CHECK(contains(e, path + ":1: column 3: \"x4\" is not a non-negative integer"));
    }
    {
        auto [path, e] = load("none.txt", "\n\n");
        CHECK(contains(e, path + ": no samples"));
    }
    CHECK(contains(error_of([] { nnp::load_token_sequences<10, 4, 2>("/nonexistent/x.txt"); }),
                   "/nonexistent/x.txt: cannot open"));
}

TEST_CASE("order task: seeded, balanced, order decides the label") {
    const auto a = nnp::order_task<8, 12>(400, nnp::seed{5}, 3);
    const auto b = nnp::order_task<8, 12>(400, nnp::seed{5}, 3);
    const auto c = nnp::order_task<8, 12>(400, nnp::seed{6}, 3);
    CHECK(a.tokens == b.tokens);
    CHECK(a.labels == b.labels);
    CHECK(a.tokens != c.tokens);
    std::size_t ones = 0, min_len = 99, max_len = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto& s = a.tokens[i];
        min_len = std::min(min_len, s.size());
        max_len = std::max(max_len, s.size());
        const auto pa = std::find(s.begin(), s.end(), 1u), pb = std::find(s.begin(), s.end(), 2u);
        REQUIRE(pa != s.end());
        REQUIRE(pb != s.end());
        CHECK(std::count(s.begin(), s.end(), 1u) == 1);
        CHECK(std::count(s.begin(), s.end(), 2u) == 1);
        CHECK(a.labels[i] == (pa < pb ? 1 : 0));
        for (auto t : s) CHECK((t >= 1 && t < 8));
        ones += static_cast<std::size_t>(a.labels[i]);
    }
    CHECK(min_len == 3);
    CHECK(max_len == 12);
    CHECK(ones > 150);
    CHECK(ones < 250);
}

TEST_CASE("pad_batch: pads to the batch's longest sample and carries the mask") {
    nnp::token_dataset<10, 6, 2> ds;
    ds.tokens = {{3, 4}, {5, 6, 7, 8}, {9}};
    ds.labels = {0, 1, 1};
    const auto b = nnp::pad_batch<float>(ds, {2, 0});
    CHECK(b.tokens.shape()[0] == 2);
    CHECK(b.tokens.shape()[1] == 2);  // the longest of samples 2 and 0, not MaxLen
    CHECK(b.tokens(0, 0) == 9);
    CHECK(b.tokens(0, 1) == 0);       // padding id
    CHECK(b.tokens(1, 1) == 4);
    CHECK(b.mask.length() == 2);
    CHECK(b.mask.lengths() == std::vector<std::size_t>{1, 2});
    CHECK(b.labels == std::vector<int>{1, 0});
    const auto wide = nnp::pad_batch<float>(ds, {1, 2}, 5);
    CHECK(wide.tokens.shape()[1] == 5);
    CHECK(wide.mask.lengths() == std::vector<std::size_t>{4, 1});
    CHECK(contains(error_of([&] { nnp::pad_batch<float>(ds, {3}); }), "sample 3 is past"));
    const auto batches = nnp::sequence_batch_order(10, 4, nnp::seed{1});
    REQUIRE(batches.size() == 3);
    CHECK(batches[2].size() == 2);
    CHECK_THROWS_AS(nnp::padding_mask({2, 0}, 3), nnp::error);
    CHECK_THROWS_AS(nnp::padding_mask({2, 4}, 3), nnp::error);
}

TEST_CASE("gradients of the sequence layers, in double, with masks of several lengths") {
    for (const auto& lengths : mask_cases) {
        CAPTURE(lengths.size());
        CAPTURE(lengths[0]);
        nnp::gradient_check_options o;
        o.lengths = lengths;
        using seq = nnp::sequence<6, 4>;
        require_pass(nnp::check_layer_gradient<nnp::dense_t<3>, seq>(nnp::dense<3>, o));
        require_pass(nnp::check_layer_gradient<nnp::layer_norm_t, seq>(nnp::layer_norm, o));
        require_pass(nnp::check_layer_gradient<nnp::positional_encoding_t, seq>(nnp::positional_encoding, o));
        require_pass(nnp::check_layer_gradient<nnp::masked_mean_pool_t, seq>(nnp::masked_mean_pool, o));
        require_pass(nnp::check_layer_gradient<nnp::last_token_pool_t, seq>(nnp::last_token_pool, o));
        require_pass(nnp::check_layer_gradient<nnp::masked_max_pool_t, seq>(nnp::masked_max_pool, o));
        require_pass(nnp::check_layer_gradient<nnp::learned_positional_encoding_t, seq>(
            nnp::learned_positional_encoding, o));
        require_pass(nnp::check_layer_gradient<nnp::mean_over_positions_t, nnp::sequence<6, 4, false>>(
            nnp::mean_over_positions, o));
        require_pass(nnp::check_layer_gradient<nnp::self_attention_t<2>, seq>(nnp::self_attention<2>, o));
        require_pass(nnp::check_layer_gradient<nnp::self_attention_t<4, true>, seq>(
            nnp::causal_self_attention<4>, o));
        require_pass(nnp::check_layer_gradient<nnp::softmax_t, seq>(nnp::softmax, o));
        require_pass(nnp::check_layer_gradient<nnp::log_softmax_t, seq>(nnp::log_softmax, o));
        require_pass(nnp::check_layer_gradient<nnp::dropout_t, seq>(nnp::dropout(0.3), o));
        o.sequence_length = 7;  // extra padding beyond the longest sample
        require_pass(nnp::check_layer_gradient<nnp::softmax_t, seq>(nnp::softmax, o));
        require_pass(nnp::check_layer_gradient<nnp::self_attention_t<1>, seq>(nnp::self_attention<1>, o));
        require_pass(nnp::check_layer_gradient<nnp::masked_mean_pool_t, seq>(nnp::masked_mean_pool, o));
    }
}

// Self-attention's per-head loops written plainly, one scalar at a time: what the vectorised
// kernels (src/attention.cpp) must reproduce bit for bit. The weights are where the kernels
// keep them (attention_dims::weight_at); the exponential is the kernels' own (softmax_exp).
template <class T>
void plain_attention(const nnp::detail::attention_dims& d, const std::vector<T>& qkv, std::vector<T>& att,
                     std::vector<T>& heads, const std::vector<T>& dheads, std::vector<T>& dqkv) {
    const std::size_t D = d.width, H = d.heads, dh = D / H, len = d.len;
    const T scale = T(1) / std::sqrt(static_cast<T>(dh));
    auto keys_for = [&](std::size_t i, std::size_t real) { return d.causal ? std::min(real, i + 1) : real; };
    for (std::size_t b = 0; b < d.rows; ++b)
        for (std::size_t h = 0; h < H; ++h) {
            for (std::size_t i = 0; i < len; ++i) {
                auto a = [&](std::size_t j) -> T& { return att[d.weight_at(b, h, i, j)]; };
                const T* q = qkv.data() + (b * len + i) * 3 * D + h * dh;
                const std::size_t keys = keys_for(i, d.lengths[b]);
                T top = -std::numeric_limits<T>::infinity();
                for (std::size_t j = 0; j < keys; ++j) {
                    const T* k = qkv.data() + (b * len + j) * 3 * D + D + h * dh;
                    T s = 0;
                    for (std::size_t e = 0; e < dh; ++e) s += q[e] * k[e];
                    a(j) = s * scale;
                    top = std::max(top, a(j));
                }
                T sum = 0;
                for (std::size_t j = 0; j < keys; ++j) sum += (a(j) = nnp::detail::softmax_exp(a(j) - top));
                for (std::size_t j = 0; j < keys; ++j) a(j) /= sum;
                for (std::size_t j = keys; j < len; ++j) a(j) = T(0);
                T* o = heads.data() + (b * len + i) * D + h * dh;
                std::fill(o, o + dh, T(0));
                for (std::size_t j = 0; j < keys; ++j) {
                    const T* v = qkv.data() + (b * len + j) * 3 * D + 2 * D + h * dh;
                    for (std::size_t e = 0; e < dh; ++e) o[e] += a(j) * v[e];
                }
            }
        }
    std::vector<T> da(len);
    for (std::size_t b = 0; b < d.rows; ++b)
        for (std::size_t h = 0; h < H; ++h) {
            for (std::size_t i = 0; i < len; ++i) {
                auto a = [&](std::size_t j) { return att[d.weight_at(b, h, i, j)]; };
                const std::size_t keys = keys_for(i, d.lengths[b]);
                const T* d_o = dheads.data() + (b * len + i) * D + h * dh;
                T dot = 0;
                for (std::size_t j = 0; j < keys; ++j) {
                    const std::size_t vj = (b * len + j) * 3 * D + 2 * D + h * dh;
                    T s = 0;
                    for (std::size_t e = 0; e < dh; ++e) {
                        s += d_o[e] * qkv[vj + e];
                        dqkv[vj + e] += a(j) * d_o[e];
                    }
                    da[j] = s;
                    dot += a(j) * s;
                }
                const std::size_t qi = (b * len + i) * 3 * D + h * dh;
                for (std::size_t j = 0; j < keys; ++j) {
                    const T ds = a(j) * (da[j] - dot) * scale;
                    const std::size_t kj = (b * len + j) * 3 * D + D + h * dh;
                    for (std::size_t e = 0; e < dh; ++e) {
                        dqkv[qi + e] += ds * qkv[kj + e];
                        dqkv[kj + e] += ds * qkv[qi + e];
                    }
                }
            }
        }
}

template <class T>
void check_attention_kernels_match_plain_loops() {
    struct shape_case {
        std::size_t len, width, heads;
        std::vector<std::size_t> lengths;
    };
    // Head widths 8 (whole vectors), 3 and 5 (a tail only, or vectors and a tail), 16; a batch
    // with extra padding; one sample of length 1; more positions than one vector of queries.
    const shape_case cases[] = {{16, 32, 4, {16, 9, 4, 1}}, {7, 12, 4, {7, 2, 5}},
                                {11, 10, 2, {3, 11, 6}},     {5, 16, 1, {2, 4}},
                                {21, 24, 3, {21, 17}},       {40, 8, 2, {33, 40, 5}}};
    nnp::rng r(nnp::seed{17});
    for (const auto& c : cases)
        for (const bool causal : {false, true}) {
            CAPTURE(c.len);
            CAPTURE(c.width);
            CAPTURE(causal);
            const nnp::detail::attention_dims d{c.lengths.size(), c.len, c.width, c.heads, causal, c.lengths.data()};
            const std::size_t n = d.rows * c.len;
            std::vector<T> qkv(n * 3 * c.width), dheads(n * c.width);
            for (auto& v : qkv) v = static_cast<T>(2 * r.normal());
            for (auto& v : dheads) v = static_cast<T>(r.normal());
            std::vector<T> att(d.weights_size(), T(7)), heads(n * c.width, T(7)), dqkv(n * 3 * c.width, T(0));
            auto att_ref = att, heads_ref = heads, dqkv_ref = dqkv;
            nnp::detail::attention_forward(d, qkv.data(), att.data(), heads.data());
            nnp::detail::attention_backward(d, qkv.data(), att.data(), dheads.data(), dqkv.data());
            plain_attention(d, qkv, att_ref, heads_ref, dheads, dqkv_ref);
            auto same_bits = [](const T* x, const T* y, std::size_t count) {
                return std::memcmp(x, y, count * sizeof(T)) == 0;
            };
            // The weights of the queries that exist (the lanes past the last are scratch).
            bool weights_same = true;
            for (std::size_t b = 0; b < d.rows; ++b)
                for (std::size_t h = 0; h < d.heads; ++h)
                    for (std::size_t j = 0; j < c.len; ++j) {
                        const std::size_t at = d.weight_at(b, h, 0, j);
                        weights_same = weights_same && same_bits(&att[at], &att_ref[at], c.len);
                    }
            CHECK(weights_same);
            CHECK(same_bits(heads.data(), heads_ref.data(), heads.size()));
            CHECK(same_bits(dqkv.data(), dqkv_ref.data(), dqkv.size()));
        }
}

// The softmax's float exponential against exp in double: within 2 ulp of the float nearest,
// 0 below -87.3 (exp is under the smallest normal float there) and exact at 0.
TEST_CASE("softmax_exp: float within 2 ulp of exp over the softmax's range, exact at 0") {
    CHECK(nnp::detail::softmax_exp(0.0f) == 1.0f);
    CHECK(nnp::detail::softmax_exp(-100.0f) == 0.0f);
    CHECK(nnp::detail::softmax_exp(-std::numeric_limits<float>::infinity()) == 0.0f);
    CHECK(std::isnan(nnp::detail::softmax_exp(std::numeric_limits<float>::quiet_NaN())));
    double worst = 0;
    float worst_x = 0;
    for (float x = -87.3f; x <= 10.0f; x += 0.000377f) {
        const double want = std::exp(static_cast<double>(x));
        const double ulp = std::nextafter(static_cast<float>(want), INFINITY) - static_cast<float>(want);
        const double err = std::abs(nnp::detail::softmax_exp(x) - want) / ulp;
        if (err > worst) worst = err, worst_x = x;
    }
    CAPTURE(worst_x);
    CHECK(worst <= 2.0);
    if (std::getenv("NNP_SEQUENCE_PROBE_NUMBERS")) fmt::print("softmax_exp: worst {:.3f} ulp at {}\n", worst, worst_x);
}

TEST_CASE("self-attention's kernels give the plain loops' bits, float and double, masked and causal") {
    check_attention_kernels_match_plain_loops<float>();
    check_attention_kernels_match_plain_loops<double>();
}

// layer_norm's loops written plainly, one row and one scalar at a time: what its kernels
// (src/layer_kernels.cpp, several rows per vector) must reproduce bit for bit.
template <class T>
void plain_layer_norm(std::size_t rows, std::size_t n, T eps, const std::vector<T>& x, const std::vector<T>& gain,
                      const std::vector<T>& bias, const std::vector<T>& dy, std::vector<T>& xhat,
                      std::vector<T>& inv_std, std::vector<T>& y, std::vector<T>& dgain, std::vector<T>& dbias,
                      std::vector<T>& dx) {
    const T d = static_cast<T>(n);
    for (std::size_t r = 0; r < rows; ++r) {
        T mean = 0, var = 0;
        for (std::size_t j = 0; j < n; ++j) mean += x[r * n + j];
        mean /= d;
        for (std::size_t j = 0; j < n; ++j) {
            const T c = x[r * n + j] - mean;
            var += c * c;
        }
        inv_std[r] = T(1) / std::sqrt(var / d + eps);
        for (std::size_t j = 0; j < n; ++j) {
            xhat[r * n + j] = (x[r * n + j] - mean) * inv_std[r];
            y[r * n + j] = gain[j] * xhat[r * n + j] + bias[j];
        }
    }
    std::fill(dgain.begin(), dgain.end(), T(0));
    std::fill(dbias.begin(), dbias.end(), T(0));
    for (std::size_t r = 0; r < rows; ++r) {
        T s1 = 0, s2 = 0;
        for (std::size_t j = 0; j < n; ++j) {
            const T g = dy[r * n + j] * gain[j];
            dgain[j] += dy[r * n + j] * xhat[r * n + j];
            dbias[j] += dy[r * n + j];
            s1 += g;
            s2 += g * xhat[r * n + j];
        }
        for (std::size_t j = 0; j < n; ++j)
            dx[r * n + j] = inv_std[r] / d * (d * dy[r * n + j] * gain[j] - s1 - xhat[r * n + j] * s2);
    }
}

template <class T>
void check_layer_norm_kernels_match_plain_loops() {
    // Rows around the vector widths (8 doubles, 16 floats) and one row; features from 1 up.
    nnp::rng r(nnp::seed{23});
    for (const std::size_t rows : {1u, 5u, 8u, 16u, 17u, 40u})
        for (const std::size_t n : {1u, 3u, 32u, 33u}) {
            CAPTURE(rows);
            CAPTURE(n);
            std::vector<T> x(rows * n), dy(rows * n), gain(n), bias(n);
            for (auto& v : x) v = static_cast<T>(1 + 2 * r.normal());
            for (auto& v : dy) v = static_cast<T>(r.normal());
            for (auto& v : gain) v = static_cast<T>(1 + 0.3 * r.normal());
            for (auto& v : bias) v = static_cast<T>(0.3 * r.normal());
            std::vector<T> xhat(rows * n, T(7)), inv_std(rows, T(7)), y(rows * n, T(7)), dgain(n, T(7)),
                dbias(n, T(7)), dx(rows * n, T(7));
            auto xhat_ref = xhat, inv_std_ref = inv_std, y_ref = y, dgain_ref = dgain, dbias_ref = dbias, dx_ref = dx;
            const T eps = T(1e-5);
            nnp::detail::layer_norm_forward<T>(rows, n, eps, x.data(), gain.data(), bias.data(), xhat.data(),
                                               inv_std.data(), y.data());
            nnp::detail::layer_norm_backward<T>(rows, n, dy.data(), xhat.data(), gain.data(), inv_std.data(),
                                                dgain.data(), dbias.data(), dx.data());
            plain_layer_norm(rows, n, eps, x, gain, bias, dy, xhat_ref, inv_std_ref, y_ref, dgain_ref, dbias_ref,
                             dx_ref);
            auto same_bits = [](const std::vector<T>& a, const std::vector<T>& b) {
                return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
            };
            CHECK(same_bits(xhat, xhat_ref));
            CHECK(same_bits(inv_std, inv_std_ref));
            CHECK(same_bits(y, y_ref));
            CHECK(same_bits(dgain, dgain_ref));
            CHECK(same_bits(dbias, dbias_ref));
            CHECK(same_bits(dx, dx_ref));
            // Without an input gradient: the parameters' gradients alone, the same bits.
            std::fill(dgain.begin(), dgain.end(), T(7));
            nnp::detail::layer_norm_backward<T>(rows, n, dy.data(), xhat.data(), gain.data(), inv_std.data(),
                                                dgain.data(), dbias.data(), nullptr);
            CHECK(same_bits(dgain, dgain_ref));
        }
}

TEST_CASE("layer_norm's kernels give the plain loops' bits, float and double, rows around the vector widths") {
    check_layer_norm_kernels_match_plain_loops<float>();
    check_layer_norm_kernels_match_plain_loops<double>();
}

TEST_CASE("masked pooling ignores the padded positions; the plain mean does not") {
    nnp::padding_mask m({1, 2}, 3);
    nnp::rng r(1);
    nnp::context ctx{nnp::mode::eval, &r, &m};
    nnp::matrix<double> x = nnp::detail::zero_matrix<double>(2, 6);  // 2 samples, T = 3, D = 2
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<double>(i + 1);
    nnp::matrix<double> y = nnp::detail::zero_matrix<double>(2, 2);
    nnp::masked_mean_pool_t::impl<double, nnp::sequence<3, 2>> pool;
    pool.forward(x, y, ctx);
    CHECK(y(0, 0) == 1.0);  // sample 0: position 0 only
    CHECK(y(0, 1) == 2.0);
    CHECK(y(1, 0) == (7.0 + 9.0) / 2);
    nnp::last_token_pool_t::impl<double, nnp::sequence<3, 2>> last;
    last.forward(x, y, ctx);
    CHECK(y(0, 1) == 2.0);
    CHECK(y(1, 0) == 9.0);
    nnp::masked_max_pool_t::impl<double, nnp::sequence<3, 2>> top;
    x(1, 0) = 100;  // sample 1's largest first feature, at position 0
    x(0, 4) = 100;  // a padded position of sample 0
    top.forward(x, y, ctx);
    CHECK(y(0, 0) == 1.0);
    CHECK(y(1, 0) == 100.0);
    CHECK(y(1, 1) == 10.0);
    x(1, 0) = 7;
    x(0, 4) = 5;
    nnp::mean_over_positions_t::impl<double, nnp::sequence<3, 2, false>> plain;
    plain.forward(x, y, ctx);
    CHECK(y(0, 0) == (1.0 + 3.0 + 5.0) / 3);
    nnp::context no_mask{nnp::mode::eval, &r, nullptr};
    CHECK_THROWS_WITH_AS(pool.forward(x, y, no_mask), doctest::Contains("needs the padding mask"),
                         nnp::error);
}

TEST_CASE("embedding: the padding row gets no gradient; ids outside the vocabulary are errors") {
    constexpr auto net = nnp::token_input<5> | nnp::embedding<6, 3> | nnp::masked_mean_pool |
                         nnp::dense<2>;
    auto m = nnp::make_model<double>(net, nnp::seed{3});
    nnp::matrix<double> x = {{1, 2, 0, 0}, {5, 0, 0, 0}, {3, 3, 4, 1}};
    nnp::padding_mask mask({2, 1, 4}, 4);
    m.forward(x, mask);
    m.output_grad().fill(1.0);
    m.backward();
    const auto& table = m.params()[0];
    REQUIRE(table.name == "table");
    for (std::size_t j = 0; j < 3; ++j) {
        CHECK(table.value[j] == 0.0);  // row of id 0 starts at zero
        CHECK(table.grad[j] == 0.0);   // and gets no gradient
        CHECK(table.grad[3 + j] != 0.0);
    }
    nnp::matrix<double> bad = {{1, 6}};
    nnp::padding_mask one({2}, 2);
    CHECK_THROWS_WITH_AS(m.forward(bad, one),
                         doctest::Contains("embedding<6, 3>: sample 0 position 1 holds 6"), nnp::error);
    nnp::matrix<double> too_long = nnp::detail::zero_matrix<double>(1, 6);
    CHECK_THROWS_WITH_AS(m.forward(too_long), doctest::Contains("node 0 takes 1 to 5 positions"),
                         nnp::error);
    CHECK(m.node(1).shape == "Tx3 (padded, T<=5)");
}

TEST_CASE("a sequence model's gradient, in double, with masks of several lengths") {
    constexpr auto net = nnp::token_input<6> | nnp::embedding<7, 4> | nnp::positional_encoding |
                         nnp::dense<4> | nnp::tanh_act | nnp::named<"h"> | nnp::self_attention<2> |
                         nnp::add<"h"> | nnp::layer_norm | nnp::masked_mean_pool | nnp::dense<3>;
    auto m = nnp::make_model<double>(net, nnp::seed{4});
    for (const auto& lengths : mask_cases) {
        const std::size_t rows = lengths.size(), len = 5;
        nnp::matrix<double> x = nnp::detail::zero_matrix<double>(rows, len);
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t t = 0; t < lengths[r]; ++t) x(r, t) = static_cast<double>(1 + (r + 2 * t) % 6);
        nnp::gradient_check_options o;
        o.lengths = lengths;
        o.check_inputs = false;  // token ids
        require_pass(nnp::check_model_gradient(m, x, o));
    }
}

namespace {
// The largest difference between each sample's output alone and in its batch, padded to the
// longest sample and to the maximum length.
template <class Net>
double padding_dependence(const Net& net) {
    auto m = nnp::make_model<double>(net, nnp::seed{2});
    const auto ds = nnp::order_task<9, 8>(6, nnp::seed{3});
    const std::vector<std::size_t> all{0, 1, 2, 3, 4, 5};
    const auto batch = nnp::pad_batch<double>(ds, all);
    const auto wide = nnp::pad_batch<double>(ds, all, 8);
    const nnp::matrix<double> together = m.forward(batch.tokens, batch.mask, nnp::mode::eval);
    const nnp::matrix<double> padded = m.forward(wide.tokens, wide.mask, nnp::mode::eval);
    double worst = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
        const auto alone = nnp::pad_batch<double>(ds, {i});
        const nnp::matrix<double> y = m.forward(alone.tokens, alone.mask, nnp::mode::eval);
        for (std::size_t j = 0; j < y.shape()[1]; ++j)
            worst = std::max({worst, std::abs(y(0, j) - together(i, j)), std::abs(y(0, j) - padded(i, j))});
    }
    return worst;
}
}  // namespace

TEST_CASE("padding dependence: zero with masked pooling, caught when the padding is counted") {
    constexpr auto masked = nnp::token_input<8> | nnp::embedding<9, 6> | nnp::learned_positional_encoding |
                            nnp::named<"x"> | nnp::causal_self_attention<2> | nnp::add<"x"> |
                            nnp::dense<6> | nnp::relu | nnp::masked_max_pool | nnp::dense<2>;
    CHECK(padding_dependence(masked) < 1e-12);
    // The bug: a plain mean, the padding waved through with the opt-out.
    constexpr auto counted = nnp::token_input<8> | nnp::embedding<9, 6> | nnp::dense<6> |
                             nnp::relu | nnp::padding_ok | nnp::mean_over_positions | nnp::dense<2>;
    CHECK(padding_dependence(counted) > 1e-3);
}

TEST_CASE("a sample's output does not depend on its batch's padding") {
    constexpr auto net = nnp::token_input<8> | nnp::embedding<9, 6> | nnp::positional_encoding |
                         nnp::named<"x"> | nnp::self_attention<3> | nnp::add<"x"> |
                         nnp::layer_norm | nnp::dense<6> | nnp::relu | nnp::masked_mean_pool |
                         nnp::dense<2>;
    auto m = nnp::make_model<double>(net, nnp::seed{2});
    const auto ds = nnp::order_task<9, 8>(6, nnp::seed{3});
    const auto batch = nnp::pad_batch<double>(ds, {0, 1, 2, 3, 4, 5});
    const auto wide = nnp::pad_batch<double>(ds, {0, 1, 2, 3, 4, 5}, 8);
    const nnp::matrix<double> together = m.forward(batch.tokens, batch.mask, nnp::mode::eval);
    const nnp::matrix<double> padded = m.forward(wide.tokens, wide.mask, nnp::mode::eval);
    for (std::size_t i = 0; i < 6; ++i) {
        const auto alone = nnp::pad_batch<double>(ds, {i});
        const nnp::matrix<double> y = m.forward(alone.tokens, alone.mask, nnp::mode::eval);
        for (std::size_t j = 0; j < 2; ++j) {
            CHECK(y(0, j) == doctest::Approx(together(i, j)).epsilon(1e-12));
            CHECK(y(0, j) == doctest::Approx(padded(i, j)).epsilon(1e-12));
        }
    }
}

TEST_CASE("causal self-attention: position t does not see the positions after it") {
    using seq = nnp::sequence<5, 4>;
    nnp::self_attention_t<2, true>::impl<double, seq> causal;
    nnp::self_attention_t<2, false>::impl<double, seq> full;
    nnp::rng r(3);
    causal.init(nnp::causal_self_attention<2>, nnp::init::normal(0.5), r);
    full.wqkv = causal.wqkv;
    full.wo = causal.wo;
    nnp::padding_mask m({5, 3}, 5);
    nnp::context ctx{nnp::mode::eval, &r, &m};
    nnp::matrix<double> x = nnp::detail::zero_matrix<double>(2, 20), y1 = x, y2 = x, z1 = x, z2 = x;
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = std::sin(0.7 * static_cast<double>(i));
    causal.forward(x, y1, ctx);
    full.forward(x, z1, ctx);
    nnp::matrix<double> x2 = x;
    for (std::size_t j = 0; j < 4; ++j) x2(0, 3 * 4 + j) += 1.0;  // sample 0, position 3
    for (std::size_t j = 0; j < 4; ++j) x2(1, 4 * 4 + j) += 1.0;  // sample 1, a padded key
    causal.forward(x2, y2, ctx);
    full.forward(x2, z2, ctx);
    for (std::size_t j = 0; j < 12; ++j) CHECK(y2(0, j) == y1(0, j));  // positions 0..2
    CHECK(y2(0, 12) != y1(0, 12));
    CHECK(z2(0, 0) != z1(0, 0));                                       // full attention sees it
    for (std::size_t j = 0; j < 12; ++j) CHECK(z2(1, j) == z1(1, j));  // padded keys: no weight
}

TEST_CASE("softmax on a sequence normalises each position's features, as softmax(dim=-1)") {
    constexpr auto net = nnp::token_input<6> | nnp::embedding<7, 3> | nnp::dense<4> | nnp::softmax;
    auto m = nnp::make_model<double>(net, nnp::seed{5});
    nnp::matrix<double> x = {{1, 2, 3, 0, 0}, {4, 5, 6, 1, 2}};
    const nnp::padding_mask mask({3, 5}, 5);
    const nnp::matrix<double>& y = m.forward(x, mask, nnp::mode::eval);
    REQUIRE(y.shape()[1] == 5 * 4);
    const nnp::matrix<double>& z = m.output(2);  // the logits
    for (std::size_t b = 0; b < 2; ++b)
        for (std::size_t t = 0; t < 5; ++t) {
            double sum = 0, lse = 0;
            for (std::size_t j = 0; j < 4; ++j) lse += std::exp(z(b, t * 4 + j));
            for (std::size_t j = 0; j < 4; ++j) {
                sum += y(b, t * 4 + j);
                CHECK(y(b, t * 4 + j) == doctest::Approx(std::exp(z(b, t * 4 + j)) / lse).epsilon(1e-14));
            }
            CHECK(sum == doctest::Approx(1.0).epsilon(1e-14));
        }
}

TEST_CASE("dropout on a sequence: elementwise in training, the identity in evaluation") {
    constexpr auto net = nnp::token_input<6> | nnp::embedding<7, 8> | nnp::dropout(0.5) |
                         nnp::masked_mean_pool | nnp::dense<2>;
    auto m = nnp::make_model<double>(net, nnp::seed{6});
    nnp::matrix<double> x = {{1, 2, 3, 0}, {4, 5, 6, 1}};
    const nnp::padding_mask mask({3, 4}, 4);
    m.forward(x, mask, nnp::mode::train);
    const nnp::matrix<double> emb = m.output(1), dropped = m.output(2);
    std::size_t zeros = 0;
    for (std::size_t i = 0; i < emb.size(); ++i) {
        if (dropped.data()[i] == 0.0) ++zeros;
        else CHECK(dropped.data()[i] == doctest::Approx(2.0 * emb.data()[i]).epsilon(1e-15));
    }
    CHECK(zeros > 8);   // of 64 entries, about half
    CHECK(zeros < 56);
    m.forward(x, mask, nnp::mode::eval);
    for (std::size_t i = 0; i < emb.size(); ++i) CHECK(m.output(2).data()[i] == m.output(1).data()[i]);
}

// ---- sequence models in nnp::pipeline: the whole probe suite on them ---------------------

namespace {

using namespace nnp;

// The example's classifier, smaller for the tests' speed: vocabulary 16, up to 10 tokens.
constexpr std::size_t test_vocab = 16, test_len = 10;
constexpr auto small_classifier = token_input<test_len> | embedding<test_vocab, 16> | positional_encoding |
                                  named<"x"> | self_attention<2> | add<"x"> | layer_norm | dense<16> | relu |
                                  masked_mean_pool | dense<2>;
using order_data = data_spec<tokens<test_vocab, test_len>, classes<2>>;
const auto sequence_pipe = pipeline(order_data{}, small_classifier, softmax_cross_entropy, adam{.lr = 1e-2});
const auto padded_minibatch_pipe = sequence_pipe.batches(shuffled_batches{.size = 8});
const auto bucketed_pipe = sequence_pipe.batches(length_buckets{.size = 8, .pool = 3}).gathered(sample_order);
// The bug: the rows of each batch sorted by length, the outputs never put back.
const auto ungathered_pipe = sequence_pipe.batches(length_buckets{.size = 8, .pool = 3});

const token_dataset<test_vocab, test_len, 2>& order_samples() {
    static const auto d = order_task<test_vocab, test_len>(80, seed{11}, 2);
    return d;
}

// A user's length-bucketing batcher: the library's, under another name.
struct my_buckets {
    template <class DS>
    void operator()(const DS& ds, std::size_t step, seed s, batch_of<DS>& out) const {
        length_buckets{.size = 8, .pool = 3}(ds, step, s, out);
    }
};

// The check expected to fail, and what its explanation must say.
void expect_failed(const verdict& v, const char* check, std::initializer_list<const char*> says) {
    CHECK_MESSAGE(!v.passed, v.explanation);
    CHECK(v.check == check);
    for (const char* s : says) CHECK_MESSAGE(v.explanation.find(s) != std::string::npos, v.explanation);
}

}  // namespace

// C6 on token data, as the types state it: the data's dataset type, the network's first node.
static_assert(std::is_same_v<order_data::dataset_type, token_dataset<test_vocab, test_len, 2>>);
static_assert(detail::short_vocabulary<decltype(small_classifier), 17>(std::make_index_sequence<9>{}) == 1);
static_assert(detail::short_vocabulary<decltype(small_classifier), 16>(std::make_index_sequence<9>{}) == detail::npos);

NNP_PROBE_SUITE("sequence-classifier", sequence_pipe, order_samples())

TEST_CASE("token batches: full batches and shuffled mini-batches are padded to their own longest sample") {
    token_dataset<10, 6, 2> ds;
    ds.tokens = {{3, 4}, {5, 6, 7, 8}, {9}, {3, 3, 3}};
    ds.labels = {0, 1, 1, 0};
    batch_of<token_dataset<10, 6, 2>> b;
    full_batch(ds, 0, seed{1}, b);
    CHECK(b.ids.shape()[0] == 4);
    CHECK(b.ids.shape()[1] == 4);  // the longest sample, not MaxLen
    CHECK(b.mask.lengths() == std::vector<std::size_t>{2, 4, 1, 3});
    CHECK(b.y == std::vector<int>{0, 1, 1, 0});
    CHECK(b.row_sample == std::vector<std::size_t>{0, 1, 2, 3});
    CHECK(b.ids(2, 0) == 9);
    CHECK(b.ids(2, 1) == 0);  // padding id
    const shuffled_batches two{.size = 2};
    for (std::size_t step = 0; step < 4; ++step) {
        batch_of<token_dataset<10, 6, 2>> m, again;
        two(ds, step, seed{3}, m);
        two(ds, step, seed{3}, again);  // a pure function of (data, step, seed)
        CHECK(m.ids == again.ids);
        REQUIRE(m.rows() == 2);
        CHECK(m.mask.length() == std::max(m.mask.length_of(0), m.mask.length_of(1)));
        CHECK(m.ids.shape()[1] == m.mask.length());
        for (std::size_t r = 0; r < 2; ++r) {
            // Each row is one sample of the data set with its own label.
            bool found = false;
            for (std::size_t i = 0; i < ds.size(); ++i) {
                if (ds.tokens[i].size() != m.mask.length_of(r) || ds.labels[i] != m.y[r]) continue;
                bool same = true;
                for (std::size_t t = 0; t < ds.tokens[i].size(); ++t) same = same && m.ids(r, t) == float(ds.tokens[i][t]);
                found = found || same;
            }
            CHECK(found);
        }
    }
    ds.labels[1] = 2;  // a hand-built data set that disagrees with its type
    CHECK_THROWS_WITH_AS(detail::check_consistent(ds), doctest::Contains("sample 1 has label 2, out of range [0, 2)"),
                         data_error);
    ds.labels[1] = 1;
    ds.tokens[3] = {3, 0};
    CHECK_THROWS_WITH_AS(detail::check_consistent(ds), doctest::Contains("sample 3 position 1 holds id 0"), data_error);
}

TEST_CASE("length_buckets: batches of similar lengths, rows sorted longest first, sample_order puts them back") {
    const auto& ds = order_samples();
    const length_buckets buckets{.size = 8, .pool = 3};
    std::size_t padding_buckets = 0, padding_shuffled = 0;
    std::vector<std::size_t> seen(ds.size(), 0);
    const std::size_t per_epoch = ds.size() / 8;
    for (std::size_t step = 0; step < 3 * per_epoch; ++step) {
        batch_of<token_dataset<test_vocab, test_len, 2>> b, again, mini;
        buckets(ds, step, seed{5}, b);
        buckets(ds, step, seed{5}, again);
        CHECK(b.ids == again.ids);  // a pure function of (data, step, seed)
        CHECK(b.row_sample == again.row_sample);
        REQUIRE(b.rows() == 8);
        for (std::size_t r = 1; r < 8; ++r) CHECK(b.mask.length_of(r - 1) >= b.mask.length_of(r));
        std::vector<std::size_t> order;
        sample_order(b.row_sample, order);
        // Output row order[i] holds sample i: its ids belong to a sample with label y[i].
        for (std::size_t i = 0; i < 8; ++i) {
            const std::size_t r = order[i];
            CHECK(b.row_sample[r] == i);
            bool found = false;
            for (std::size_t k = 0; k < ds.size(); ++k) {
                if (ds.tokens[k].size() != b.mask.length_of(r) || ds.labels[k] != b.y[i]) continue;
                bool same = true;
                for (std::size_t t = 0; t < ds.tokens[k].size(); ++t) same = same && b.ids(r, t) == float(ds.tokens[k][t]);
                if (same && step < per_epoch) ++seen[k];
                found = found || same;
            }
            CHECK(found);
        }
        shuffled_batches{.size = 8}(ds, step, seed{5}, mini);
        for (std::size_t r = 0; r < 8; ++r) {
            padding_buckets += b.mask.length() - b.mask.length_of(r);
            padding_shuffled += mini.mask.length() - mini.mask.length_of(r);
        }
    }
    // One epoch deals every sample once (the data set divides into batches of 8).
    for (std::size_t k = 0; k < ds.size(); ++k) CHECK(seen[k] >= 1);
    CHECK(padding_buckets * 2 < padding_shuffled);  // bucketing: less than half the padding
    std::vector<std::size_t> order;
    CHECK_THROWS_WITH_AS(sample_order(std::vector<std::size_t>{0, 0}, order),
                         doctest::Contains("row 1 holds sample 0"), error);
}

TEST_CASE("healthy sequence classifier: every check passes for 20 seeds, full batches, padded mini-batches, buckets") {
    for (std::uint64_t s = 1; s <= 20; ++s) {
        CAPTURE(s);
        const probe_options o{.run_seed = seed{s}};
        NNP_CHECK_PROBES(sequence_pipe, order_samples(), o);
        NNP_CHECK_PROBES(padded_minibatch_pipe, order_samples(), o);
        NNP_CHECK_PROBES(bucketed_pipe, order_samples(), o);
    }
}

TEST_CASE("bucketing without gathering the outputs back is caught, and the gather stage named") {
    for (std::uint64_t s = 1; s <= 5; ++s) {
        CAPTURE(s);
        const probe_options o{.run_seed = seed{s}};
        const verdict v =
            blame_stage([](const auto& p, const auto& d, const auto& oo) { return overfits(p, d, oo); },
                        ungathered_pipe, order_samples(), o);
        expect_failed(v, "overfits", {"the gather stage is the likely cause", "sample_order"});
        CHECK(v.stage == "the gather stage `in_order` (the rows of a batch in the samples' order)");
    }
    // The same bug in a batcher of the user's own: either stage may be the cause.
    const auto users = sequence_pipe.batches(my_buckets{});
    const verdict v = blame_stage([](const auto& p, const auto& d, const auto& oo) { return overfits(p, d, oo); },
                                  users, order_samples());
    expect_failed(v, "overfits",
                  {"passes when the batcher `my_buckets` is replaced by full_batch, or when the gather stage `in_order`",
                   "one of these stages is the likely cause"});
    NNP_CHECK(overfits(users.gathered(sample_order), order_samples()));
}

TEST_CASE("batch_invariance on token data: a mean that counts the padding differs alone and in its batch") {
    constexpr auto counted = token_input<test_len> | embedding<test_vocab, 16> | dense<16> | relu | padding_ok |
                             mean_over_positions | dense<2>;
    const auto p = pipeline(order_data{}, counted, softmax_cross_entropy, adam{.lr = 1e-2});
    const verdict v = batch_invariance(p, order_samples());
    expect_failed(v, "batch_invariance", {"differs alone vs in its batch", "node 5 mean_over_positions"});
    NNP_CHECK(batch_invariance(sequence_pipe, order_samples()));
}

TEST_CASE("batch_invariance on a causal model: a causal mask off by one is caught at its node, the healthy one passes") {
    constexpr auto causal_with = [](auto attention) {
        return token_input<test_len> | embedding<test_vocab, 16> | positional_encoding | named<"x"> | attention |
               add<"x"> | layer_norm | dense<16> | relu | last_token_pool | dense<2>;
    };
    const auto leaky = pipeline(order_data{}, causal_with(bugs::off_by_one_causal_attention<2>{}),
                                softmax_cross_entropy, adam{.lr = 1e-2});
    const verdict v = batch_invariance(leaky, order_samples());
    expect_failed(v, "batch_invariance", {"batch_invariance: causality", "node 3 off_by_one_causal_attention<2>"});
    const auto healthy = pipeline(order_data{}, causal_with(causal_self_attention<2>), softmax_cross_entropy,
                                  adam{.lr = 1e-2});
    const verdict ok = batch_invariance(healthy, order_samples());
    NNP_CHECK(ok);
    CHECK_MESSAGE(contains(ok.explanation, "causality"), ok.explanation);
}

namespace {
// The classifier of examples/sequence_classifier.cpp with its attention and pooling nodes
// (nodes 3 and 8) given: the healthy ones or an injected bug.
constexpr std::size_t probe_vocab = 32, probe_len = 16;
template <class Attention, class Pool>
constexpr auto classifier_with(Attention attention, Pool pool) {
    return nnp::token_input<probe_len> | nnp::embedding<probe_vocab, 32> | nnp::positional_encoding |
           nnp::named<"x"> | attention | nnp::add<"x"> | nnp::layer_norm | nnp::dense<32> | nnp::relu |
           pool | nnp::dense<2>;
}
constexpr auto healthy_classifier = classifier_with(nnp::self_attention<4>, nnp::masked_mean_pool);
// A causal variant: causal attention, and the last real token (which sees the whole sequence).
constexpr auto healthy_causal = classifier_with(nnp::causal_self_attention<4>, nnp::last_token_pool);

// Sequences of 2 to 16 tokens: batches of them are padded.
nnp::token_dataset<probe_vocab, probe_len, 2> probe_data(std::uint64_t s) {
    return nnp::order_task<probe_vocab, probe_len>(48, nnp::seed{100 + s}, 2);
}
const std::vector<std::size_t> probe_rows{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

// A model after a few training steps with Adam, as the probe suite's mini-run leaves it.
template <class T, class Net>
auto trained_model(const Net& net, std::uint64_t s, const nnp::token_dataset<probe_vocab, probe_len, 2>& data) {
    auto m = nnp::make_model<T>(net, nnp::seed{s});
    nnp::optimizer_state<nnp::adam, T> opt(nnp::adam{.lr = 2e-3});
    const auto batches = nnp::sequence_batch_order(data.size(), 8, nnp::seed{s});
    for (std::size_t k = 0; k < 5; ++k) {
        const auto b = nnp::pad_batch<T>(data, batches[k]);
        m.forward(b.tokens, b.mask, nnp::mode::train);
        nnp::softmax_cross_entropy(m.output(), b.labels, m.output_grad());
        m.backward();
        opt.step(m.params());
    }
    return m;
}

// Prints the measured numbers when NNP_SEQUENCE_PROBE_NUMBERS is set.
bool print_numbers() { return std::getenv("NNP_SEQUENCE_PROBE_NUMBERS") != nullptr; }

template <class T, class Net>
void healthy_for_20_seeds(const Net& net, const char* name, bool causal) {
    double spread = 0, change = 0;
    for (std::uint64_t s = 1; s <= 20; ++s) {
        CAPTURE(s);
        const auto data = probe_data(s);
        auto m = trained_model<T>(net, s, data);
        const auto p = nnp::padding_invariance(m, data, probe_rows);
        CHECK_MESSAGE(p.passed, p.explanation);
        CHECK_MESSAGE(contains(p.explanation, "in evaluation and training mode"), p.explanation);
        spread = std::max(spread, p.measured);
        const auto c = nnp::causality(m, data, probe_rows);
        CHECK_MESSAGE(c.passed, c.explanation);
        CHECK_MESSAGE(contains(c.explanation, "not applicable") != causal, c.explanation);
        change = std::max(change, c.measured);
    }
    CHECK(change == 0);
    if (print_numbers())
        fmt::print("healthy {} ({}), 20 seeds: padding_invariance largest difference {:.3g} relative "
                   "({:.1f} ulp, tolerance 1024 ulp); causality largest change {:.3g}\n",
                   name, sizeof(T) == 4 ? "float" : "double", spread,
                   spread / std::numeric_limits<T>::epsilon(), change);
}

// A bug's verdict: failed, at the node expected, naming sample, position and difference.
void caught(const nnp::verdict& v, const std::string& node, const char* bug) {
    CHECK_MESSAGE(!v.passed, v.explanation);
    CHECK_MESSAGE(contains(v.explanation, node), v.explanation);
    CHECK_MESSAGE(contains(v.explanation, "sample "), v.explanation);
    CHECK_MESSAGE(contains(v.explanation, v.check == "causality" ? "|change| = " : "|diff| = "), v.explanation);
    if (print_numbers())
        fmt::print("{}: {} fails at {}: measured {:.3g}{}\n", bug, v.check, node, v.measured,
                   v.check == "causality" ? " (absolute)" : " (relative)");
}
}  // namespace

TEST_CASE("sequence probes: the healthy classifier and a causal variant pass for 20 seeds") {
    healthy_for_20_seeds<float>(healthy_classifier, "classifier", false);
    healthy_for_20_seeds<double>(healthy_classifier, "classifier", false);
    healthy_for_20_seeds<float>(healthy_causal, "causal classifier", true);
    healthy_for_20_seeds<double>(healthy_causal, "causal classifier", true);
}

TEST_CASE("sequence probes: attention masked the wrong way is caught at the attention node") {
    const auto data = probe_data(1);
    {  // the user's attention with the mask on the keys, before the softmax: the healthy twin
        auto m = trained_model<float>(classifier_with(nnp::bugs::user_attention<4>{}, nnp::masked_mean_pool), 1, data);
        const auto v = nnp::padding_invariance(m, data, probe_rows);
        CHECK_MESSAGE(v.passed, v.explanation);
    }
    {
        auto m = trained_model<float>(classifier_with(nnp::bugs::query_masked_attention<4>{}, nnp::masked_mean_pool), 1, data);
        caught(nnp::padding_invariance(m, data, probe_rows), "node 3 query_masked_attention<4> at position", "mask on the query axis");
    }
    {
        auto m = trained_model<float>(classifier_with(nnp::bugs::mask_after_softmax_attention<4>{}, nnp::masked_mean_pool), 1, data);
        caught(nnp::padding_invariance(m, data, probe_rows), "node 3 mask_after_softmax_attention<4> at position",
               "mask after the softmax");
    }
    {
        auto m = trained_model<float>(classifier_with(nnp::bugs::inverted_mask_attention<4>{}, nnp::masked_mean_pool), 1, data);
        caught(nnp::padding_invariance(m, data, probe_rows), "node 3 inverted_mask_attention<4> at position", "inverted mask");
    }
}

TEST_CASE("sequence probes: a causal mask off by one is caught by causality at its node") {
    const auto data = probe_data(1);
    {
        auto m = trained_model<float>(classifier_with(nnp::bugs::user_causal_attention<4>{}, nnp::last_token_pool), 1, data);
        const auto v = nnp::causality(m, data, probe_rows);
        CHECK_MESSAGE(v.passed, v.explanation);
        CHECK_MESSAGE(contains(v.explanation, "node 3 user_causal_attention<4> declares itself causal"), v.explanation);
    }
    auto m = trained_model<float>(classifier_with(nnp::bugs::off_by_one_causal_attention<4>{}, nnp::last_token_pool), 1, data);
    const auto v = nnp::causality(m, data, probe_rows);
    caught(v, "node 3 off_by_one_causal_attention<4>, at position", "causal mask off by one");
    CHECK_MESSAGE(v.node == 3u, v.explanation);
    // Padding stays masked: the leak is only into the future, which padding_invariance cannot see.
    const auto p = nnp::padding_invariance(m, data, probe_rows);
    CHECK_MESSAGE(p.passed, p.explanation);
}

TEST_CASE("sequence probes: pooling that counts or takes padded positions is caught at the pooling node") {
    const auto data = probe_data(1);
    {
        auto m = trained_model<float>(classifier_with(nnp::self_attention<4>, nnp::bugs::mean_pool_over_batch_length{}), 1, data);
        caught(nnp::padding_invariance(m, data, probe_rows), "node 8 mean_pool_over_batch_length at feature",
               "padding counted in the mean");
    }
    {
        auto m = trained_model<float>(classifier_with(nnp::causal_self_attention<4>, nnp::bugs::last_padded_token_pool{}), 1, data);
        caught(nnp::padding_invariance(m, data, probe_rows), "node 8 last_padded_token_pool at feature",
               "last padded position pooled");
    }
}

TEST_CASE("padding_invariance: a stochastic layer is compared in evaluation mode only; bad lengths are errors") {
    constexpr auto net = nnp::token_input<8> | nnp::embedding<9, 6> | nnp::dropout(0.2) |
                         nnp::masked_mean_pool | nnp::dense<2>;
    auto m = nnp::make_model<double>(net, nnp::seed{2});
    const auto data = nnp::order_task<9, 8>(6, nnp::seed{3});
    const auto v = nnp::padding_invariance(m, data, {0, 1, 2, 3, 4, 5});
    CHECK_MESSAGE(v.passed, v.explanation);
    CHECK_MESSAGE(contains(v.explanation, "in evaluation mode"), v.explanation);
    REQUIRE(v.notes.size() == 1);
    CHECK(contains(v.notes[0], "node 2 dropout(0.200000) gives another output on each training pass"));
    CHECK_THROWS_WITH_AS(nnp::padding_invariance(m, data, {0, 1}, 9), doctest::Contains("cannot pad to 9"),
                         nnp::error);
    CHECK_THROWS_AS(nnp::padding_invariance(m, data, {}), nnp::data_error);
    CHECK_THROWS_AS(nnp::causality(m, data, {6}), nnp::data_error);
}

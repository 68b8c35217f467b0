// The engine: graphs become models, models train, seeds reproduce runs bit for bit, and a
// training step allocates nothing.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <vector>

#include <doctest/doctest.h>
#include <nnprobe/nnprobe.hpp>
#include <nnprobe/visit.hpp>
#include <boost/hana/length.hpp>
#include <xtensor/xview.hpp>

using namespace nnp;

// Count heap allocations (the whole test program shares this operator new). g++ cannot see
// that delete pairs with this malloc-based new.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
static std::atomic<long> g_allocations{0};
void* operator new(std::size_t n) {
    ++g_allocations;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
// The nothrow form too (std::stable_sort's temporary buffer uses it): its memory comes back
// through the delete above, so it must come from malloc as well.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    ++g_allocations;
    return std::malloc(n ? n : 1);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {
constexpr auto iris_mlp = input<4> | dense<16> | relu | dense<3>;
constexpr auto residual_mlp = input<64> | dense<32> | relu | named<"trunk"> | dense<32> | relu |
                              dense<32> | add<"trunk"> | relu | dense<10>;

auto iris() {
    auto d = load_csv<features<4>, classes<3>>(NNP_SOURCE_DIR "/examples/data/iris.csv");
    standardise(d);
    return d;
}

template <class M>
std::vector<float> all_params(const M& m) {
    std::vector<float> v;
    for (const auto& p : m.params()) v.insert(v.end(), p.value, p.value + p.size);
    return v;
}
}  // namespace

TEST_SUITE("engine") {

namespace {
// op(A) op(B) summed in order of k, one rounding per multiply and per add (the project builds
// with -ffp-contract=off): the bits the small-product loop promises.
template <class T>
std::vector<T> plain_product(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const T* a,
                             const T* b) {
    std::vector<T> c(m * n);
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            T sum = 0;
            for (std::size_t p = 0; p < k; ++p)
                sum += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
            c[i * n + j] = sum;
        }
    return c;
}

template <class T>
void check_small_products(T tolerance) {
    struct dims {
        std::size_t m, n, k;
    };
    // The benchmarks' and probes' shapes, single rows, and every edge of the loop: rows in
    // fours and a remainder, widths around the vector widths (4, 8, 16), k of 1.
    const dims shapes[] = {{32, 16, 4}, {32, 3, 16}, {16, 3, 32}, {32, 16, 3}, {4, 16, 32}, {1, 16, 4},
                           {1, 1, 1},   {1, 3, 16},  {3, 5, 7},   {5, 8, 1},   {7, 9, 2},   {6, 17, 5},
                           {9, 33, 3},  {16, 16, 16}, {2, 64, 8}, {13, 31, 11}};
    nnp::rng r(seed{17});
    for (const auto& d : shapes)
        for (const bool ta : {false, true})
            for (const bool tb : {false, true}) {
                CAPTURE(d.m);
                CAPTURE(d.n);
                CAPTURE(d.k);
                CAPTURE(ta);
                CAPTURE(tb);
                std::vector<T> a(d.m * d.k), b(d.k * d.n), small(d.m * d.n), blas(d.m * d.n, T(-1)),
                    again(d.m * d.n, T(-1));
                for (auto& v : a) v = static_cast<T>(r.normal());
                for (auto& v : b) v = static_cast<T>(r.normal());
                detail::small_gemm(ta, tb, d.m, d.n, d.k, a.data(), b.data(), small.data());
                detail::blas_gemm(ta, tb, d.m, d.n, d.k, a.data(), b.data(), blas.data());
                // The same bits as the plain loop, and as a second call.
                CHECK(small == plain_product(ta, tb, d.m, d.n, d.k, a.data(), b.data()));
                detail::small_gemm(ta, tb, d.m, d.n, d.k, a.data(), b.data(), again.data());
                CHECK(std::memcmp(small.data(), again.data(), small.size() * sizeof(T)) == 0);
                // BLAS adds in another order: equal up to rounding.
                T worst = 0;
                for (std::size_t i = 0; i < small.size(); ++i)
                    worst = std::max(worst, std::abs(small[i] - blas[i]) / (T(1) + std::abs(blas[i])));
                CHECK(worst <= tolerance);
                // A row alone gives that row's bits in the batch (batch invariance, exactly).
                if (!ta) {
                    const std::size_t i = d.m - 1;
                    std::vector<T> row(d.n);
                    detail::small_gemm(false, tb, 1, d.n, d.k, a.data() + i * d.k, b.data(), row.data());
                    CHECK(std::memcmp(row.data(), small.data() + i * d.n, d.n * sizeof(T)) == 0);
                }
                // gemm takes the loop exactly where is_small_product says so.
                std::vector<T> dispatched(d.m * d.n);
                detail::gemm(ta, tb, d.m, d.n, d.k, a.data(), b.data(), dispatched.data());
                CHECK(dispatched == (detail::is_small_product(d.m, d.n, d.k) ? small : blas));
            }
}
}  // namespace

TEST_CASE("small products: the plain loop's bits, BLAS's values, every transpose and edge size") {
    check_small_products<float>(2e-6f);
    check_small_products<double>(1e-14);
}

TEST_CASE("products in and out of the small range keep the bench models' shapes on their path") {
    CHECK(detail::is_small_product(32, 16, 4));   // the Iris MLP's first layer, forward
    CHECK(detail::is_small_product(1, 16, 4));    // one sample (batch invariance)
    CHECK_FALSE(detail::is_small_product(32, 3, 16));  // three columns: BLAS is faster
    CHECK_FALSE(detail::is_small_product(64, 256, 784));
}

TEST_CASE("the products run on BLAS kernels that use the processor's vector extensions") {
    matrix<float> a = detail::zero_matrix<float>(64, 64), c = a;
    a.fill(1.0f);
    detail::gemm(a, a, c);
    CHECK(c(63, 63) == 64.0f);
    const auto& b = detail::blas_in_use();
    INFO(b.library, ": kernel ", b.kernel, " (picked by itself: ", b.detected, "), processor ", b.processor,
         "; ", b.advice);
    CHECK(b.fits);
    CHECK(b.switched == (b.kernel != b.detected));
    CHECK(b.advice.empty());
}

TEST_CASE("splitmix64 gives the reference bits") {
    // Reference values of splitmix64 (Vigna) from state 0: the same on every platform.
    rng r(0);
    CHECK(r.next_u64() == 0xe220a8397b1dcdafULL);
    CHECK(r.next_u64() == 0x6e789e6aa1b965f4ULL);
    rng a(seed{5}), b(seed{5});
    std::vector<int> xs(20), ys(20);
    for (int i = 0; i < 20; ++i) xs[i] = ys[i] = i;
    a.shuffle(xs.begin(), xs.end());
    b.shuffle(ys.begin(), ys.end());
    CHECK(xs == ys);
    double sum = 0, sq = 0;
    rng n(seed{9});
    for (int i = 0; i < 20000; ++i) {
        const double z = n.normal();
        sum += z;
        sq += z * z;
    }
    CHECK(std::abs(sum / 20000) < 0.03);
    CHECK(std::abs(sq / 20000 - 1) < 0.05);
}

// With `using namespace nnp;` at global scope (above) and <cmath>, the activation and the C
// library's tanh are both usable unqualified, and a program may have its own `batch`.
struct batch {
    int rows = 0;
};
TEST_CASE("nnp names do not collide with <cmath> or a program's own names") {
    constexpr auto net = input<2> | dense<4> | tanh_act | dense<1>;
    CHECK(make_model(net, seed{1}).node(2).layer == "tanh");
    CHECK(tanh(0.5) == std::tanh(0.5));
    batch b{3};
    CHECK(b.rows == 3);
}

// In a constexpr graph these are compile errors (tests/compile_fail/values_*.cpp); a graph
// built at run time gets an nnp::error naming the value.
TEST_CASE("a dropout rate outside [0, 1) or leaky_relu(1) built at run time is an nnp::error") {
    for (double rate : {1.5, 1.0, -0.5, std::nan("")}) {
        CAPTURE(rate);
        CHECK_THROWS_AS(dropout(rate), error);
    }
    CHECK_THROWS_WITH(dropout(1.5), doctest::Contains("dropout(1.5"));
    for (double rate : {0.0, 0.5, 0.999}) CHECK(dropout(rate).rate == rate);
    double slope = 1;
    CHECK_THROWS_WITH_AS(leaky_relu(slope), doctest::Contains("leaky_relu(1) is the identity"), error);
    slope = 0.2;
    CHECK(leaky_relu(slope).slope == slope);
}

TEST_CASE("nodes are reachable by index and name, with inferred shapes") {
    auto m = make_model(residual_mlp, seed{1});
    REQUIRE(m.nodes().size() == 9);
    CHECK(m.node(1).layer == "dense<32>");
    CHECK(m.node(2).name == "trunk");
    CHECK(m.index_of("trunk") == 2);
    CHECK(m.node(6).layer == "add");
    CHECK(m.node(6).inputs == std::vector<std::size_t>{5, 2});
    CHECK(m.node(8).shape == "10");
    CHECK(m.node(8).label() == "node 8 dense<10>");
    CHECK_THROWS_WITH_AS(m.index_of("nope"), doctest::Contains("no node is named \"nope\""), nnp::error);
    // weight + bias for each of the four dense nodes
    CHECK(m.params().size() == 8);
}

// Twelve residual blocks, 62 nodes: each `|` rebuilds the node tuple, renames the cursor or
// joins two nodes by index; the model's per-node steps take the index as an argument.
#define NNP_TEST_BLOCK(b) | named<b> | dense<8> | relu | dense<8> | add<b> | relu
constexpr auto deep_residual = input<8> NNP_TEST_BLOCK("b0") NNP_TEST_BLOCK("b1") NNP_TEST_BLOCK("b2")
    NNP_TEST_BLOCK("b3") NNP_TEST_BLOCK("b4") NNP_TEST_BLOCK("b5") NNP_TEST_BLOCK("b6")
    NNP_TEST_BLOCK("b7") NNP_TEST_BLOCK("b8") NNP_TEST_BLOCK("b9") NNP_TEST_BLOCK("b10")
    NNP_TEST_BLOCK("b11") | dense<3>;
#undef NNP_TEST_BLOCK

TEST_CASE("a deep residual network keeps every node's name, inputs, shape and parameters") {
    using G = std::remove_cvref_t<decltype(deep_residual)>;
    static_assert(G::size == 62 && G::cursor == 61);
    static_assert(std::is_same_v<detail::layer_at<G, 19>, add_t>);
    auto m = make_model(deep_residual, seed{3});
    REQUIRE(m.nodes().size() == 62);
    for (std::size_t b = 0; b < 12; ++b) {
        const std::size_t named_node = 5 * b;  // the node before the block: input or relu
        CHECK(m.index_of("b" + std::to_string(b)) == named_node);
        CHECK(m.node(named_node + 1).layer == "dense<8>");
        CHECK(m.node(named_node + 1).inputs == std::vector<std::size_t>{named_node});
        CHECK(m.node(named_node + 4).layer == "add");
        CHECK(m.node(named_node + 4).inputs == std::vector<std::size_t>{named_node + 3, named_node});
        CHECK(m.node(named_node + 5).layer == "relu");
    }
    CHECK(m.node(61).label() == "node 61 dense<3>");
    CHECK(m.node(61).shape == "3");
    CHECK(m.params().size() == 2 * 25);  // weight and bias of 24 block dense layers and the head
    for (const auto& p : m.params()) CHECK(m.node(p.node).layer.starts_with("dense<"));
    matrix<float> x({4, 8}, 0.5f);
    const auto& y = m.forward(x);
    REQUIRE(y.shape()[1] == 3);
    for (float v : y) CHECK(std::isfinite(v));
}

TEST_CASE("a batch of the wrong width is refused with both widths named") {
    auto m = make_model(iris_mlp, seed{1});
    matrix<float> x({2, 5}, 0.f);
    CHECK_THROWS_WITH_AS(m.forward(x), doctest::Contains("has 5 columns"), nnp::error);
}

TEST_CASE("the initialiser follows the activation: He before relu, Glorot before tanh") {
    constexpr auto he_net = input<256> | dense<256> | relu | dense<2>;
    constexpr auto glorot_net = input<256> | dense<256> | nnp::tanh_act | dense<2>;
    auto std_of = [](const auto& m) {
        const auto& w = m.params()[0];
        double s = 0;
        for (std::size_t i = 0; i < w.size; ++i) s += double(w.value[i]) * w.value[i];
        return std::sqrt(s / double(w.size));
    };
    CHECK(std_of(make_model(he_net, seed{2})) == doctest::Approx(std::sqrt(2.0 / 256)).epsilon(0.02));
    CHECK(std_of(make_model(glorot_net, seed{2})) ==
          doctest::Approx(std::sqrt(6.0 / 512) / std::sqrt(3.0)).epsilon(0.02));
    // and an explicit per-node override wins
    constexpr auto zero_net = input<4> | dense<8>.init(init::zeros) | relu | dense<2>;
    CHECK(std_of(make_model(zero_net, seed{2})) == 0.0);
}

TEST_CASE("the Iris MLP converges from a fixed seed") {
    auto data = iris();
    auto m = make_model(iris_mlp, seed{7});
    trainer t(m, softmax_cross_entropy, adam{.lr = 1e-2});
    const float first = t.step(data.x, data.y);
    CHECK(first == doctest::Approx(std::log(3.0)).epsilon(0.5));
    float last = first;
    for (int s = 0; s < 200; ++s) last = t.step(data.x, data.y);
    CHECK(last < 0.1f);
    CHECK(accuracy(m.forward(data.x, mode::eval), data.y) >= 0.97);
}

TEST_CASE("every optimiser trains the Iris MLP") {
    auto data = iris();
    auto run = [&](auto opt) {
        auto m = make_model(iris_mlp, seed{3});
        trainer t(m, softmax_cross_entropy, opt);
        const float first = t.step(data.x, data.y);
        float last = first;
        for (int s = 0; s < 150; ++s) last = t.step(data.x, data.y);
        return std::pair{first, last};
    };
    for (auto [first, last] : {run(sgd{.lr = 0.1}), run(sgd{.lr = 0.05, .momentum = 0.9}),
                               run(adam{.lr = 1e-2}), run(adam{.lr = 1e-2, .weight_decay = 1e-4})}) {
        CHECK(last < 0.5f * first);
    }
}

TEST_CASE("one seed gives bitwise the same run, another seed another init") {
    auto data = iris();
    auto run = [&](std::uint64_t s) {
        auto m = make_model(residual_mlp | relu | dropout(0.2) | dense<3>, seed{s});
        std::vector<float> losses;
        trainer t(m, softmax_cross_entropy, adam{.lr = 1e-2});
        matrix<float> x({150, 64}, 0.f);  // Iris padded to 64 features
        for (std::size_t r = 0; r < 150; ++r)
            for (std::size_t j = 0; j < 4; ++j) x(r, j) = data.x(r, j);
        for (int k = 0; k < 20; ++k) losses.push_back(t.step(x, data.y));
        return std::pair{losses, all_params(m)};
    };
    const auto a = run(11), b = run(11), c = run(12);
    CHECK(std::memcmp(a.first.data(), b.first.data(), a.first.size() * sizeof(float)) == 0);
    REQUIRE(a.second.size() == b.second.size());
    CHECK(std::memcmp(a.second.data(), b.second.data(), a.second.size() * sizeof(float)) == 0);
    CHECK(a.first != c.first);
}

TEST_CASE("the same graph instantiates at double") {
    auto data = iris();
    auto m = make_model<double>(iris_mlp, seed{7});
    trainer t(m, softmax_cross_entropy, adam{.lr = 1e-2});
    double last = 0;
    for (int s = 0; s < 200; ++s) last = t.step(data.x, data.y);  // float data, converted
    CHECK(last < 0.1);
}

TEST_CASE("frozen nodes keep their weights; lr_scale scales the step") {
    constexpr auto net = input<4> | dense<8>.frozen() | relu | dense<3>.lr_scale(0.0);
    auto data = iris();
    auto m = make_model(net, seed{4});
    const auto before = all_params(m);
    trainer t(m, softmax_cross_entropy, sgd{.lr = 0.1});
    t.step(data.x, data.y);
    CHECK(all_params(m) == before);
    CHECK_FALSE(m.params()[0].trainable);
}

TEST_CASE("a training step allocates nothing once the batch size is steady") {
    auto data = iris();
    auto m = make_model(residual_mlp | relu | dense<3>, seed{1});
    matrix<float> x({32, 64}, 0.5f);
    std::vector<int> y(32, 1);
    trainer t(m, softmax_cross_entropy, adam{.lr = 1e-3});
    t.step(x, y);  // first step sizes every buffer
    const long before = g_allocations.load();
    for (int s = 0; s < 10; ++s) t.step(x, y);
    CHECK(g_allocations.load() - before == 0);
}

TEST_CASE("a CNN training step allocates nothing once the batch size is steady") {
    constexpr auto cnn = input<2, 8, 8> | conv2d<4, 3, same_padding> | batch_norm | relu | named<"a"> |
                         conv2d_no_bias<4, 3, padding<1>> | relu | add<"a"> | max_pool2d<2> |
                         conv2d<6, 3, stride<2>, padding<1>, dilation<1>> | relu | named<"b"> | from<"a"> |
                         avg_pool2d<4> | concat<"b"> | dropout(0.1) | global_avg_pool | dense<3>;
    auto m = make_model(cnn, seed{1});
    CHECK(m.node(11).shape == "10x2x2");  // 4 + 6 channels, joined
    matrix<float> x({16, 128}, 0.f);
    rng r(2);
    for (auto& v : x) v = static_cast<float>(r.normal());
    std::vector<int> y(16, 1);
    trainer t(m, softmax_cross_entropy, adam{.lr = 1e-3});
    t.step(x, y);
    const long before = g_allocations.load();
    for (int s = 0; s < 5; ++s) t.step(x, y);
    CHECK(g_allocations.load() - before == 0);
}

namespace {
// im2col and col2im written plainly, one bounds check per element, over positions in order:
// the copies and sums the fast paths must reproduce bit for bit. `ref` has one row per
// (sample, output position) and one column per (channel, kernel row, kernel column).
template <class T>
void plain_im2col(const T* x, std::size_t rows, const detail::window_dims& g, std::vector<T>& ref) {
    ref.assign(rows * g.positions() * g.patch(), T(-7));
    T* c = ref.data();
    for (std::size_t n = 0; n < rows; ++n)
        for (std::size_t oh = 0; oh < g.out_h; ++oh)
            for (std::size_t ow = 0; ow < g.out_w; ++ow)
                for (std::size_t ch = 0; ch < g.channels; ++ch)
                    for (std::size_t kh = 0; kh < g.kernel; ++kh)
                        for (std::size_t kw = 0; kw < g.kernel; ++kw, ++c) {
                            const long ih = long(oh * g.stride + kh * g.dilation) - long(g.pad_top);
                            const long iw = long(ow * g.stride + kw * g.dilation) - long(g.pad_left);
                            const bool inside = ih >= 0 && iw >= 0 && ih < long(g.height) && iw < long(g.width);
                            *c = inside ? x[n * g.in_size() + (ch * g.height + ih) * g.width + iw] : T(0);
                        }
}
template <class T>
void plain_col2im(const T* ref, std::size_t rows, const detail::window_dims& g, std::vector<T>& dx) {
    dx.assign(rows * g.in_size(), T(0));
    for (std::size_t n = 0; n < rows; ++n)
        for (std::size_t oh = 0; oh < g.out_h; ++oh)
            for (std::size_t ow = 0; ow < g.out_w; ++ow)
                for (std::size_t ch = 0; ch < g.channels; ++ch)
                    for (std::size_t kh = 0; kh < g.kernel; ++kh)
                        for (std::size_t kw = 0; kw < g.kernel; ++kw, ++ref) {
                            const long ih = long(oh * g.stride + kh * g.dilation) - long(g.pad_top);
                            const long iw = long(ow * g.stride + kw * g.dilation) - long(g.pad_left);
                            if (ih >= 0 && iw >= 0 && ih < long(g.height) && iw < long(g.width))
                                dx[n * g.in_size() + (ch * g.height + ih) * g.width + iw] += *ref;
                        }
}

// The fast im2col against the plain one (transposed: the fast layout is patch x (sample,
// position)), and the fast col2im against the plain sums, bit for bit, at several batch sizes.
template <class T, class W>
void check_window_copies() {
    constexpr detail::window_dims g = detail::dims_of<W>();
    static_assert(W::fits);
    CAPTURE(g.channels);
    CAPTURE(g.height);
    CAPTURE(g.width);
    CAPTURE(g.kernel);
    CAPTURE(g.stride);
    CAPTURE(g.dilation);
    CAPTURE(g.pad_top);
    nnp::rng r(seed{g.height * 131 + g.kernel * 7 + g.stride});
    for (const std::size_t rows : {1, 3}) {
        CAPTURE(rows);
        const std::size_t positions = g.positions(), patch = g.patch(), columns = rows * positions;
        std::vector<T> x(rows * g.in_size()), fast(patch * columns, T(-9)), ref;
        for (auto& v : x) v = static_cast<T>(r.normal());
        detail::im2col<g>(x.data(), rows, fast.data());
        plain_im2col(x.data(), rows, g, ref);
        std::size_t wrong = 0;
        for (std::size_t m = 0; m < columns; ++m)
            for (std::size_t j = 0; j < patch; ++j)
                wrong += std::memcmp(&fast[j * columns + m], &ref[m * patch + j], sizeof(T)) != 0;
        CHECK(wrong == 0);

        // Column entries that differ in magnitude, so a pixel's sum depends on its order.
        for (auto& v : fast) v = static_cast<T>(r.normal() * std::exp(4 * r.normal()));
        for (std::size_t m = 0; m < columns; ++m)
            for (std::size_t j = 0; j < patch; ++j) ref[m * patch + j] = fast[j * columns + m];
        std::vector<T> dx(rows * g.in_size(), T(5)), plain;
        detail::col2im<g>(fast.data(), rows, dx.data());
        plain_col2im(ref.data(), rows, g, plain);
        CHECK(std::memcmp(dx.data(), plain.data(), dx.size() * sizeof(T)) == 0);
    }
}
template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t S, std::size_t D,
          std::size_t P, bool Same>
using win = detail::window<shape<C, H, W>, K, S, D, P, Same>;
}  // namespace

TEST_CASE("im2col and col2im: the fast copies give the plain loop's bits for every window option") {
    auto all = []<class T>(T) {
        check_window_copies<T, win<3, 32, 32, 3, 1, 1, 0, false>>();  // the bench's W6 layers
        check_window_copies<T, win<32, 15, 15, 3, 1, 1, 0, false>>();
        check_window_copies<T, win<1, 8, 8, 3, 1, 1, 0, true>>();     // same padding
        check_window_copies<T, win<2, 7, 9, 2, 1, 1, 0, true>>();     // even kernel: more pad after
        check_window_copies<T, win<2, 7, 6, 4, 1, 1, 0, true>>();
        check_window_copies<T, win<2, 9, 8, 3, 2, 1, 1, false>>();    // stride, padding
        check_window_copies<T, win<3, 10, 11, 3, 3, 1, 2, false>>();
        check_window_copies<T, win<2, 9, 9, 3, 1, 2, 0, false>>();    // dilation
        check_window_copies<T, win<2, 12, 10, 3, 1, 2, 0, true>>();   // dilation, same padding
        check_window_copies<T, win<2, 11, 13, 4, 3, 2, 2, false>>();  // everything at once
        check_window_copies<T, win<1, 5, 5, 5, 1, 1, 0, false>>();    // one position
        check_window_copies<T, win<2, 4, 4, 3, 1, 1, 3, false>>();    // padding wider than the kernel
        check_window_copies<T, win<3, 6, 5, 1, 2, 1, 0, false>>();    // 1 x 1, stride 2
        check_window_copies<T, win<1, 3, 3, 2, 4, 1, 2, false>>();    // stride beyond the kernel
    };
    all(float{});
    all(double{});
}

namespace {
// Max pooling written plainly: each window scanned in order, the first maximum kept, the first
// NaN passed on; dx gets each output's gradient at the entry it took.
template <class T>
void plain_max_pool(const std::vector<T>& x, std::size_t rows, const detail::window_dims& g, std::vector<T>& y,
                    const std::vector<T>& dy, std::vector<T>& dx) {
    y.clear();
    dx.assign(x.size(), T(0));
    std::size_t j = 0;
    for (std::size_t n = 0; n < rows; ++n)
        for (std::size_t c = 0; c < g.channels; ++c)
            for (std::size_t oh = 0; oh < g.out_h; ++oh)
                for (std::size_t ow = 0; ow < g.out_w; ++ow, ++j) {
                    const std::size_t plane = n * g.in_size() + c * g.height * g.width;
                    std::size_t best = plane + oh * g.stride * g.width + ow * g.stride;
                    bool nan = false;
                    for (std::size_t kh = 0; kh < g.kernel && !nan; ++kh)
                        for (std::size_t kw = 0; kw < g.kernel && !nan; ++kw) {
                            const std::size_t i = plane + (oh * g.stride + kh) * g.width + ow * g.stride + kw;
                            if (std::isnan(x[i])) nan = true, best = i;
                            else if (x[i] > x[best]) best = i;
                        }
                    y.push_back(x[best]);
                    dx[best] += dy[j];
                }
}

template <class T, std::size_t C, std::size_t H, std::size_t W, std::size_t K, class... Opts>
void check_max_pool() {
    using layer = max_pool2d_t<K, Opts...>;
    using in = shape<C, H, W>;
    typename layer::template impl<T, in> pool;
    constexpr detail::window_dims g = decltype(pool)::g;
    CAPTURE(H);
    CAPTURE(W);
    CAPTURE(K);
    CAPTURE(g.stride);
    nnp::rng r(seed{H * 31 + W + K});
    const std::size_t rows = 3, outs = g.channels * g.positions();
    // Ties (few distinct values), signed zeros, infinities and NaNs, all in one batch.
    const T specials[] = {T(0), T(-0.0), T(1), T(-1), std::numeric_limits<T>::infinity(),
                          -std::numeric_limits<T>::infinity(), std::numeric_limits<T>::quiet_NaN()};
    std::vector<T> x(rows * in::size), dy(rows * outs), y_ref, dx_ref;
    for (auto& v : x) {
        const double u = r.uniform();
        v = u < 0.3 ? specials[std::size_t(r.uniform() * 7) % 7] : static_cast<T>(std::round(r.normal() * 3));
    }
    for (auto& v : dy) v = static_cast<T>(r.normal());
    plain_max_pool(x, rows, g, y_ref, dy, dx_ref);
    matrix<T> xm = detail::zero_matrix<T>(rows, in::size), ym = detail::zero_matrix<T>(rows, outs),
              dym = detail::zero_matrix<T>(rows, outs), dxm = detail::zero_matrix<T>(rows, in::size);
    std::copy(x.begin(), x.end(), xm.begin());
    std::copy(dy.begin(), dy.end(), dym.begin());
    context ctx{};
    pool.forward(xm, ym, ctx);
    pool.backward(xm, ym, dym, &dxm, ctx);
    CHECK(std::memcmp(ym.data(), y_ref.data(), y_ref.size() * sizeof(T)) == 0);
    CHECK(std::memcmp(dxm.data(), dx_ref.data(), dx_ref.size() * sizeof(T)) == 0);
}
}  // namespace

TEST_CASE("max pooling: the fast scans take the plain scan's entry, ties, signed zeros and NaNs included") {
    auto all = []<class T>(T) {
        check_max_pool<T, 3, 30, 30, 2>();  // the bench's layer: four windows at a time
        check_max_pool<T, 2, 9, 11, 2>();   // odd sizes: windows left over, an unused column
        check_max_pool<T, 2, 8, 8, 2>();
        check_max_pool<T, 2, 7, 7, 3, stride<1>>();  // overlapping windows
        check_max_pool<T, 2, 9, 9, 2, stride<3>>();  // gaps between windows
        check_max_pool<T, 1, 10, 12, 3>();
        check_max_pool<T, 2, 6, 10, 2, stride<1>>();
    };
    all(float{});
    all(double{});
}

TEST_CASE("conv2d and pooling: PyTorch's output sizes, node descriptions, linearity classes") {
    constexpr auto net = input<1, 10, 10> | conv2d<8, 3> | relu | conv2d<8, 3, same_padding> | relu |
                         conv2d<4, 2, same_padding> | relu | conv2d<4, 3, stride<2>, padding<1>> | relu |
                         conv2d_no_bias<4, 2, dilation<2>> | max_pool2d<2, stride<1>> | avg_pool2d<1> |
                         global_avg_pool | dense<2>;
    auto m = make_model(net, seed{1});
    // floor((H + 2p - d(k-1) - 1) / s) + 1, as torch.nn.Conv2d and MaxPool2d document
    CHECK(m.node(1).shape == "8x8x8");
    CHECK(m.node(3).shape == "8x8x8");
    CHECK(m.node(5).shape == "4x8x8");
    CHECK(m.node(7).shape == "4x4x4");
    CHECK(m.node(9).shape == "4x2x2");
    CHECK(m.node(10).shape == "4x1x1");
    CHECK(m.node(11).shape == "4x1x1");
    CHECK(m.node(12).shape == "4");
    CHECK(m.node(1).layer == "conv2d<8, 3x3>");
    CHECK(m.node(7).layer == "conv2d<4, 3x3, stride 2, pad 1>");
    CHECK(m.node(9).layer == "conv2d_no_bias<4, 2x2, dilation 2>");
    CHECK(m.node(10).layer == "max_pool2d<2, stride 1>");
    CHECK(m.node(1).linearity == linearity_class::affine_mixing);
    CHECK(m.node(10).linearity == linearity_class::nonlinear);
    CHECK(m.node(11).linearity == linearity_class::affine_elementwise);
    CHECK(m.node(12).linearity == linearity_class::affine_elementwise);
    // He for a conv that feeds relu: std sqrt(2 / fan_in), fan_in = C*K*K = 72
    const auto& w = m.params()[2];
    REQUIRE(w.name == "weight");
    REQUIRE(w.node == 3);
    double s = 0;
    for (std::size_t i = 0; i < w.size; ++i) s += double(w.value[i]) * w.value[i];
    CHECK(std::sqrt(s / double(w.size)) == doctest::Approx(std::sqrt(2.0 / 72)).epsilon(0.1));
}

TEST_CASE("losses: ln C at uniform logits, finite at extreme logits, labels checked") {
    matrix<double> z({2, 4}, 0.0), g;
    CHECK(softmax_cross_entropy(z, std::vector<int>{0, 3}, g) == doctest::Approx(std::log(4.0)));
    CHECK_THROWS_WITH_AS(softmax_cross_entropy(z, std::vector<int>{0, 4}, g),
                         doctest::Contains("label 4 of sample 1 is out of range [0, 4)"), nnp::error);
    matrix<double> big({1, 1}, 800.0), t({1, 1}, 0.0);
    const double l = binary_cross_entropy(big, t, g);
    CHECK(l == doctest::Approx(800.0));
    CHECK(std::isfinite(g(0, 0)));
    matrix<double> o({1, 2}, 1.0), target({1, 2}, 0.0);
    CHECK(mse(o, target, g) == doctest::Approx(1.0));
    CHECK(g(0, 0) == doctest::Approx(1.0));  // 2 (o - t) / n
    matrix<double> wrong({1, 3}, 0.0);
    CHECK_THROWS_WITH_AS(mse(o, wrong, g), doctest::Contains("output is 1x2 but the targets are 1x3"),
                         nnp::error);
}

// Float softmax cross-entropy runs 16 rows at a time with nnprobe's own exp and log: against a
// plain loop in double it agrees to float rounding, and each row's bits do not depend on the
// other rows or on where the row falls in a block of 16.
TEST_CASE("float softmax cross-entropy: a double loop's values, the same bits for a row anywhere") {
    rng r(seed{29});
    for (const std::size_t c : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{10}, std::size_t{37}})
        for (const std::size_t n : {std::size_t{1}, std::size_t{5}, std::size_t{16}, std::size_t{17}, std::size_t{40}}) {
            CAPTURE(c);
            CAPTURE(n);
            matrix<float> z({n, c}, 0.f), g;
            std::vector<int> y(n);
            for (auto& v : z) v = static_cast<float>(4 * r.normal());
            z(0, 0) = 60.f;  // a row whose other classes underflow to nearly 0
            for (std::size_t i = 0; i < n; ++i) y[i] = static_cast<int>(i % c);
            const float loss = softmax_cross_entropy(z, y, g);
            double total = 0, worst = 0;
            for (std::size_t i = 0; i < n; ++i) {
                double m = z(i, 0), sum = 0;
                for (std::size_t j = 1; j < c; ++j) m = std::max(m, double(z(i, j)));
                for (std::size_t j = 0; j < c; ++j) sum += std::exp(double(z(i, j)) - m);
                total += m + std::log(sum) - double(z(i, y[i]));
                for (std::size_t j = 0; j < c; ++j) {
                    const double p = std::exp(double(z(i, j)) - m) / sum;
                    const double want = (p - (int(j) == y[i] ? 1.0 : 0.0)) / double(n);
                    worst = std::max(worst, std::abs(g(i, j) - want));
                }
            }
            // Rounding: a few float ulps of the largest logit (60: 4e-6) and of each probability.
            CHECK(std::abs(loss - total / double(n)) <= 1e-6 * 61);
            CHECK(worst <= 5e-7 / double(n));
            // The rows reversed: each row's gradient has the same bits at its new place.
            matrix<float> zr({n, c}, 0.f), gr;
            std::vector<int> yr(n);
            for (std::size_t i = 0; i < n; ++i) {
                yr[i] = y[n - 1 - i];
                for (std::size_t j = 0; j < c; ++j) zr(i, j) = z(n - 1 - i, j);
            }
            softmax_cross_entropy(zr, yr, gr);
            bool same = true;
            for (std::size_t i = 0; i < n; ++i)
                for (std::size_t j = 0; j < c; ++j) same = same && gr(i, j) == g(n - 1 - i, j);
            CHECK(same);
        }
    // exp underflows to 0 far below the maximum, and a NaN logit gives a NaN loss.
    matrix<float> z({2, 3}, 0.f), g;
    z(0, 0) = 1e30f;
    z(1, 1) = std::numeric_limits<float>::quiet_NaN();
    const std::vector<int> y{0, 2};
    const float both = softmax_cross_entropy(z, y, g);
    CHECK(std::isnan(both));
    CHECK(g(0, 1) == 0.f);
    CHECK(g(0, 0) == 0.f);  // probability 1 less the label's 1, over 2 rows
}

// The dense layer's bias and bias-gradient loops over run-time widths: the plain loops' bits
// (after the product, whichever path it takes),
// for widths around the vector widths (the column sums read past a row's end into the next).
TEST_CASE("dense kernels: the plain loops' bits for every width and row count") {
    rng r(seed{31});
    for (const std::size_t out : {std::size_t{1}, std::size_t{3}, std::size_t{5}, std::size_t{8}, std::size_t{16},
                                  std::size_t{17}, std::size_t{40}})
        for (const std::size_t rows : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{32}}) {
            CAPTURE(out);
            CAPTURE(rows);
            constexpr std::size_t in = 5;
            std::vector<float> x(rows * in), w(in * out), b(out), dy(rows * out), y(rows * out), dw(in * out),
                db(out), dx(rows * in);
            for (auto* v : {&x, &w, &b, &dy})
                for (auto& e : *v) e = static_cast<float>(r.normal());
            detail::dense_forward<float>(rows, in, out, x.data(), w.data(), b.data(), y.data());
            detail::dense_backward<float>(rows, in, out, x.data(), w.data(), dy.data(), dw.data(), db.data(),
                                          dx.data());
            std::vector<float> xw(rows * out);
            detail::gemm(false, false, rows, out, in, x.data(), w.data(), xw.data());
            bool forward = true, bias = true;
            for (std::size_t i = 0; i < rows; ++i)
                for (std::size_t j = 0; j < out; ++j) forward = forward && y[i * out + j] == xw[i * out + j] + b[j];
            for (std::size_t j = 0; j < out; ++j) {
                float sum = 0;
                for (std::size_t i = 0; i < rows; ++i) sum += dy[i * out + j];
                bias = bias && db[j] == sum;
            }
            CHECK(forward);
            CHECK(bias);
        }
}

TEST_CASE("batch norm uses batch statistics in training and running ones in evaluation") {
    constexpr auto net = input<4> | dense<8> | batch_norm | relu | dense<3>;
    auto m = make_model(net, seed{1});
    matrix<float> x({16, 4}, 0.f);
    rng r(3);
    for (auto& v : x) v = static_cast<float>(r.normal());
    m.forward(x, mode::train);
    const auto& bn = m.output(2);
    for (std::size_t j = 0; j < 8; ++j) {
        double mean = 0;
        for (std::size_t i = 0; i < 16; ++i) mean += bn(i, j);
        CHECK(std::abs(mean / 16) < 1e-5);
    }
    // in evaluation a sample's output does not depend on the rest of its batch
    matrix<float> one = xt::view(x, xt::range(0, 1), xt::all());
    const matrix<float> alone = m.forward(one, mode::eval);
    const matrix<float> together = m.forward(x, mode::eval);
    for (std::size_t j = 0; j < 3; ++j) CHECK(alone(0, j) == doctest::Approx(together(0, j)));
}

}  // TEST_SUITE

TEST_SUITE("engine") {

// Adam's update at float against the same update computed in double from the same gradients
// (PyTorch's formula). Errors are in units of the learning rate (an update is at most about
// lr): a float step must be right to a few float roundings, not 1e-5 off. Relative to the
// update itself the error is unbounded where m cancels to nearly 0.
TEST_CASE("Adam at float takes the steps double Adam takes") {
    constexpr std::size_t n = 64;
    const adam settings{.lr = 1e-3};
    std::vector<float> w(n), g(n);
    std::vector<param_ref<float>> params{{1, "weight", w.data(), g.data(), n, true, 1.0}};
    optimizer_state<adam, float> opt(settings);
    std::vector<double> m(n, 0.0), v(n, 0.0);
    rng r(seed{21});
    double worst = 0;
    for (int t = 1; t <= 50; ++t) {
        for (std::size_t i = 0; i < n; ++i)
            g[i] = static_cast<float>(r.normal() * std::pow(10.0, r.uniform() * 4 - 3));
        std::fill(w.begin(), w.end(), 0.f);  // the new weight is then exactly -update
        opt.step(params);
        const double c1 = 1 - std::pow(settings.beta1, t), c2 = 1 - std::pow(settings.beta2, t);
        for (std::size_t i = 0; i < n; ++i) {
            m[i] = settings.beta1 * m[i] + (1 - settings.beta1) * g[i];
            v[i] = settings.beta2 * v[i] + (1 - settings.beta2) * double(g[i]) * g[i];
            const double update = settings.lr * (m[i] / c1) / (std::sqrt(v[i] / c2) + settings.eps);
            worst = std::max(worst, std::abs(-double(w[i]) - update) / settings.lr);
        }
    }
    INFO("largest error of a float step, in units of lr: " << worst);
    CHECK(worst < 1e-6);  // float's rounding is 6e-8 per operation
}

// Adam's float step runs on the widest vectors the processor has (src/adam.cpp) when nothing
// is measured, and in the header's loop when the probes record it: the weights must not
// depend on which ran. Sizes with tails for 16, 8 and 4 lanes; a frozen tensor stays put.
TEST_CASE("Adam's float step gives the same bits recorded or not") {
    for (const std::size_t n : {std::size_t{1}, std::size_t{37}, std::size_t{1000}}) {
        CAPTURE(n);
        std::vector<float> w1(n), w2(n), g(n), frozen1(n, 0.5f), frozen2(n, 0.5f);
        rng r(seed{23});
        for (auto& x : w1) x = static_cast<float>(r.normal());
        w2 = w1;
        const std::vector<float> w0 = w1;
        std::vector<param_ref<float>> plain{{1, "weight", w1.data(), g.data(), n, true, 1.0},
                                            {1, "bias", frozen1.data(), g.data(), n, false, 1.0}};
        std::vector<param_ref<float>> recorded{{1, "weight", w2.data(), g.data(), n, true, 1.0},
                                               {1, "bias", frozen2.data(), g.data(), n, false, 1.0}};
        const adam settings{.lr = 1e-2, .weight_decay = 1e-3};
        optimizer_state<adam, float> a(settings), b(settings);
        std::vector<tensor_update> stats;
        for (int t = 0; t < 20; ++t) {
            for (auto& x : g) x = static_cast<float>(r.normal() * std::pow(10.0, r.uniform() * 4 - 3));
            a.step(plain);
            b.step(recorded, &stats);
        }
        CHECK(std::memcmp(w1.data(), w2.data(), n * sizeof(float)) == 0);
        CHECK(w1 != w0);
        CHECK(frozen1 == std::vector<float>(n, 0.5f));
        CHECK(frozen2 == std::vector<float>(n, 0.5f));
    }
}

// A measured float step runs on the widest vectors too (src/adam.cpp); its statistics must keep
// the bits of the 4-lane loop that measured it before: sums of squares in four float lanes
// (element i in lane i % 4, in index order), the lanes added in double, the largest magnitudes,
// and a non-finite sum standing for its maximum. Checked against that loop written plainly,
// on sizes with every tail, a frozen tensor, and gradients that overflow or are NaN; with
// epsilon 0 too, where the zeros a masked last block loads would make 0 / 0; and nothing past
// the tensor's end is written.
TEST_CASE("Adam's measured float step: statistics with the bits of the 4-lane loop") {
    auto reference = [](const std::vector<float>& before, const std::vector<float>& after,
                        const std::vector<float>& g) {
        float sums[3][4] = {}, maxes[3] = {};
        for (std::size_t i = 0; i < g.size(); ++i) {
            const float d = after[i] - before[i], x[3] = {g[i], before[i], d};
            for (int q = 0; q < 3; ++q) {
                sums[q][i % 4] += x[q] * x[q];
                maxes[q] = std::max(maxes[q], std::abs(x[q]));
            }
        }
        double r[6] = {};
        for (int q = 0; q < 3; ++q) {
            for (int lane = 0; lane < 4; ++lane) r[q] += double(sums[q][lane]);
            r[q + 3] = std::isfinite(r[q]) ? double(maxes[q]) : r[q];
        }
        return tensor_update{r[0], r[3], r[1], r[4], r[2], r[5]};
    };
    auto same = [](double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; };
    for (const std::size_t n : {1, 3, 4, 7, 8, 15, 16, 17, 31, 37, 64, 1000, 1003}) {
        for (const double eps : {1e-8, 0.0}) {
            for (const int kind : {0, 1, 2}) {  // finite gradients; one that overflows when squared; a NaN
                CAPTURE(n);
                CAPTURE(eps);
                CAPTURE(kind);
                std::vector<float> w(n + 16), g(n), frozen(n);  // w: 16 more, which must stay put
                rng r(seed{29 + n});
                for (auto& x : w) x = static_cast<float>(r.normal());
                for (auto& x : frozen) x = static_cast<float>(r.normal());
                const std::vector<float> past(w.begin() + std::ptrdiff_t(n), w.end());
                std::vector<param_ref<float>> params{{1, "weight", w.data(), g.data(), n, true, 1.0},
                                                     {1, "bias", frozen.data(), g.data(), n, false, 1.0}};
                optimizer_state<adam, float> a(adam{.lr = 1e-2, .eps = eps, .weight_decay = 1e-3});
                std::vector<tensor_update> stats;
                for (int t = 0; t < 3; ++t) {
                    for (auto& x : g) x = static_cast<float>(r.normal() * std::pow(10.0, r.uniform() * 4 - 3));
                    if (kind == 1) g[n / 2] = 3e20f;
                    if (kind == 2) g[n - 1] = std::numeric_limits<float>::quiet_NaN();
                    const std::vector<float> w0 = w, f0 = frozen;
                    a.step(params, &stats);
                    REQUIRE(stats.size() == 2);
                    for (std::size_t p = 0; p < 2; ++p) {
                        const tensor_update want = p == 0 ? reference(w0, w, g) : reference(f0, frozen, g);
                        const tensor_update& got = stats[p];
                        CAPTURE(p);
                        CHECK(same(got.grad_sq, want.grad_sq));
                        CHECK(same(got.grad_max, want.grad_max));
                        CHECK(same(got.weight_sq, want.weight_sq));
                        CHECK(same(got.weight_max, want.weight_max));
                        CHECK(same(got.delta_sq, want.delta_sq));
                        CHECK(same(got.delta_max, want.delta_max));
                    }
                    CHECK(frozen == f0);
                    CHECK(std::equal(past.begin(), past.end(), w.begin() + std::ptrdiff_t(n)));
                }
            }
        }
    }
}

// The same model and data at float and double stay together for 100 Adam steps.
TEST_CASE("float and double Adam runs of the digits MLP stay together") {
    auto data = load_csv<features<64>, classes<10>>(NNP_SOURCE_DIR "/examples/data/digits.csv");
    standardise(data);
    constexpr auto net = input<64> | dense<128> | relu | dense<10>;
    auto mf = make_model<float>(net, seed{3});
    auto md = make_model<double>(net, seed{3});
    trainer tf(mf, softmax_cross_entropy, adam{.lr = 1e-3});
    trainer td(md, softmax_cross_entropy, adam{.lr = 1e-3});
    batcher batches(data, 64, seed{5});
    matrix<float> x;
    std::vector<int> y;
    for (int s = 0; s < 100; ++s) {
        batches.next(x, y);
        tf.step(x, y);
        td.step(x, y);
    }
    double worst = 0;
    for (std::size_t p = 0; p < mf.params().size(); ++p)
        for (std::size_t i = 0; i < mf.params()[p].size; ++i)
            worst = std::max(worst, std::abs(double(mf.params()[p].value[i]) - md.params()[p].value[i]));
    INFO("largest |float - double| weight difference after 100 steps: " << worst);
    CHECK(worst < 3e-6);
}

TEST_CASE("misuse is refused by name: empty batches, a batch size of 0, labels that do not match") {
    auto m = make_model(iris_mlp, seed{1});
    const matrix<float> empty({0, 4}, 0.f);
    CHECK_THROWS_WITH_AS(m.forward(empty), doctest::Contains("input batch has 0 rows"), nnp::error);

    // Every loss refuses a mean over no samples (it would be NaN).
    matrix<double> none({0, 3}, 0.0), g;
    CHECK_THROWS_WITH_AS(softmax_cross_entropy(none, std::vector<int>{}, g),
                         doctest::Contains("softmax_cross_entropy: the batch has 0 rows"), nnp::error);
    CHECK_THROWS_WITH_AS(binary_cross_entropy(none, none, g),
                         doctest::Contains("binary_cross_entropy: the batch has 0 rows"), nnp::error);
    CHECK_THROWS_WITH_AS(binary_cross_entropy(none, std::vector<int>{}, g),
                         doctest::Contains("binary_cross_entropy: the batch has 0 rows"), nnp::error);
    CHECK_THROWS_WITH_AS(mse(none, none, g), doctest::Contains("mse: the batch has 0 rows"), nnp::error);

    // accuracy names both counts instead of reading past the labels.
    const matrix<float> out({3, 3}, 0.f);
    CHECK_THROWS_WITH_AS(accuracy(out, std::vector<int>{0, 1}),
                         doctest::Contains("the output has 3 rows but there are 2 labels"), nnp::error);
    CHECK_THROWS_WITH_AS(accuracy(matrix<float>({0, 3}, 0.f), std::vector<int>{}),
                         doctest::Contains("accuracy: the batch has 0 rows"), nnp::error);
    CHECK(accuracy(out, std::vector<int>{0, 0, 1}) == doctest::Approx(2.0 / 3));

    // shuffled_batches of size 0 (it divided by zero), and of an empty data set.
    auto data = iris();
    batch_of<decltype(data)> b;
    CHECK_THROWS_WITH_AS(shuffled_batches{.size = 0}(data, 0, seed{1}, b),
                         doctest::Contains("shuffled_batches: the batch size must be at least 1"),
                         nnp::data_error);
    const decltype(data) nothing;
    CHECK_THROWS_WITH_AS(shuffled_batches{.size = 4}(nothing, 0, seed{1}, b),
                         doctest::Contains("shuffled_batches: the data set is empty"), nnp::data_error);
    shuffled_batches{.size = 8}(data, 3, seed{1}, b);
    CHECK(b.x.shape()[0] == 8);
}

TEST_CASE("a name given to an earlier node (after from<...>) renames that node, and later joins find it") {
    // The graph is built one `|` at a time; naming a node that is not the last one rewrites
    // the graph built so far, which must keep every other node, name and input as it was.
    constexpr auto net = input<4> | dense<6> | relu | named<"a"> | dense<6> | relu | named<"t"> | from<"a"> |
                         named<"b"> | dense<6> | add<"t"> | add<"b"> | relu | dense<2>;
    auto m = make_model(net, seed{1});
    CHECK(m.node(2).name == "b");
    CHECK(m.node(4).name == "t");
    CHECK(m.node(5).inputs == std::vector<std::size_t>{2});
    CHECK(m.node(6).inputs == std::vector<std::size_t>{5, 4});
    CHECK(m.node(7).inputs == std::vector<std::size_t>{6, 2});
    CHECK(m.node(9).shape == "2");
}

TEST_CASE("add<...> joins the node of that name, wherever it stands in the graph built so far") {
    // Names are looked up through the graph's type several nodes a step: every join below
    // looks one up at another graph size, so each offset of a lookup is taken.
    constexpr auto net = input<4> | named<"n0"> | dense<4> | named<"n1"> | relu | named<"n2"> | dense<4> |
                         named<"n3"> | relu | named<"n4"> | add<"n0"> | add<"n1"> | add<"n2"> | add<"n3"> |
                         add<"n4"> | add<"n0"> | add<"n1"> | add<"n2"> | add<"n3"> | add<"n4"> | add<"n2"> |
                         add<"n2"> | add<"n2"> | relu | dense<2>;
    auto m = make_model(net, seed{1});
    const std::vector<std::string> joined{"n0", "n1", "n2", "n3", "n4", "n0", "n1",
                                          "n2", "n3", "n4", "n2", "n2", "n2"};
    for (std::size_t k = 0; k < joined.size(); ++k) {
        const auto& join = m.node(5 + k);
        CAPTURE(join.index);
        REQUIRE(join.inputs.size() == 2);
        CHECK(join.inputs[0] == join.index - 1);
        CHECK(m.node(join.inputs[1]).name == joined[k]);
    }
}

TEST_CASE("the typed visit: every node with its static layer and shapes, filtered with Hana") {
    namespace hana = boost::hana;
    constexpr auto net = nnp::input<8> | nnp::dense<6> | nnp::relu | nnp::named<"h"> | nnp::dense<6> |
                         nnp::add<"h"> | nnp::relu | nnp::dense<3>;
    using G = std::remove_cvref_t<decltype(net)>;
    static_assert(decltype(hana::length(nnp::node_types<G>))::value == 7);
    auto m = nnp::make_model(net, nnp::seed{3});
    nnp::matrix<float> x = nnp::detail::zero_matrix<float>(5, 8);
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float(i % 7) - 3.0f;
    m.forward(x, nnp::mode::eval);
    std::vector<std::size_t> seen, sizes, input_sizes;
    nnp::for_each_node(m, [&](auto node) {
        using N = decltype(node);
        seen.push_back(N::index);
        sizes.push_back(N::shape::size);
        input_sizes.push_back(N::input_shape::size);
        CHECK(node.output().shape()[1] == N::shape::size);  // the static shape is the runtime one
        CHECK(node.info().index == N::index);
    });
    CHECK(seen == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6});
    CHECK(sizes == std::vector<std::size_t>{8, 6, 6, 6, 6, 6, 3});
    CHECK(input_sizes == std::vector<std::size_t>{8, 8, 6, 6, 6, 6, 6});
    // hana::filter at compile time: the dense nodes, and the relus
    std::vector<std::size_t> dense, relus;
    auto affine = hana::filter(nnp::node_types<G>, [](auto t) {
        return hana::bool_c<decltype(t)::type::linearity == nnp::linearity_class::affine_mixing>;
    });
    nnp::for_each_node(m, affine, [&](auto node) {
        dense.push_back(node.index);
        CHECK(node.runtime_part().w.size() == decltype(node)::input_shape::size * decltype(node)::shape::size);
    });
    nnp::for_each_node(m, hana::filter(nnp::node_types<G>, nnp::layer_is<nnp::relu_t>),
                       [&](auto node) { relus.push_back(node.index); });
    CHECK(dense == std::vector<std::size_t>{1, 3, 6});
    CHECK(relus == std::vector<std::size_t>{2, 5});
}

}  // TEST_SUITE

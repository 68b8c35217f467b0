// Numerical gradient checks: every built-in layer and a whole model pass in double, and
// deliberately broken layers fail with a report that names the wrong tensor.
#include <doctest/doctest.h>

#include <nnprobe/gradient_check.hpp>
#include <nnprobe/model.hpp>

#include <cmath>
#include <string>

namespace {

using nnp::context;
using nnp::matrix;

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

void require_pass(const nnp::gradient_check_result& r) {
    INFO(r.explain());
    CHECK(r.ok);
    CHECK(r.mismatches.empty());
    CHECK(r.problems.empty());
    CHECK(r.entries_checked > 0);
}

// Fails, and the report names `tensor` (and `words`, when given).
void require_fail(const nnp::gradient_check_result& r, const std::string& tensor,
                  const std::string& words = "") {
    const std::string text = r.explain();
    INFO(text);
    CHECK_FALSE(r.ok);
    CHECK(contains(text, "FAILED"));
    CHECK(contains(text, tensor));
    CHECK(r.mentions(tensor));
    if (!words.empty()) CHECK(contains(text, words));
}

nnp::gradient_check_options eval_mode() {
    nnp::gradient_check_options o;
    o.pass_mode = nnp::mode::eval;
    return o;
}

// ---- Deliberately broken layers --------------------------------------------------------------

// Common spec boilerplate for the single-input, same-shape test layers.
template <class Derived>
struct test_layer {
    static constexpr nnp::linearity_class linearity = nnp::linearity_class::nonlinear;
    template <class In>
    using output_shape = In;
};

// tanh whose backward flips the sign of the derivative.
struct sign_error_t : test_layer<sign_error_t> {
    static std::string describe() { return "sign_error"; }
    template <class T, class In>
    struct impl {
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            for (std::size_t i = 0; i < x.size(); ++i) y.data()[i] = std::tanh(x.data()[i]);
        }
        void backward(const matrix<T>&, const matrix<T>& y, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            if (!dx) return;
            for (std::size_t i = 0; i < y.size(); ++i)
                dx->data()[i] = -dy.data()[i] * (T(1) - y.data()[i] * y.data()[i]);
        }
    };
};

// A square dense layer (no bias) whose weight gradient is transposed: dy^T x instead of x^T dy.
struct transposed_dense_t {
    static constexpr nnp::linearity_class linearity = nnp::linearity_class::affine_mixing;
    template <class In>
    using output_shape = In;
    static std::string describe() { return "transposed_dense"; }
    template <class T, class In>
    struct impl {
        static constexpr std::size_t n = In::size;
        matrix<T> w = matrix<T>({n, n}, T(0)), dw = matrix<T>({n, n}, T(0));
        void init(const transposed_dense_t&, const nnp::init_spec& s, nnp::rng& r) {
            nnp::detail::initialise(w, s, n, n, r);
        }
        template <class F>
        void for_each_param(F&& f) { f("weight", w, dw); }
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            for (std::size_t r = 0; r < x.shape()[0]; ++r)
                for (std::size_t j = 0; j < n; ++j) {
                    T s = 0;
                    for (std::size_t i = 0; i < n; ++i) s += x(r, i) * w(i, j);
                    y(r, j) = s;
                }
        }
        void backward(const matrix<T>& x, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            for (std::size_t i = 0; i < n; ++i)
                for (std::size_t j = 0; j < n; ++j) {
                    T s = 0;
                    for (std::size_t r = 0; r < x.shape()[0]; ++r) s += x(r, j) * dy(r, i);  // bug
                    dw(i, j) = s;
                }
            if (!dx) return;
            for (std::size_t r = 0; r < x.shape()[0]; ++r)
                for (std::size_t i = 0; i < n; ++i) {
                    T s = 0;
                    for (std::size_t j = 0; j < n; ++j) s += dy(r, j) * w(i, j);
                    (*dx)(r, i) = s;
                }
        }
    };
};

// sigmoid whose backward forgets the y (1 - y) factor.
struct missing_term_t : test_layer<missing_term_t> {
    static std::string describe() { return "missing_term"; }
    template <class T, class In>
    struct impl {
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            for (std::size_t i = 0; i < x.size(); ++i)
                y.data()[i] = T(1) / (T(1) + std::exp(-x.data()[i]));
        }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            if (dx) *dx = dy;  // bug: dy * y * (1 - y)
        }
    };
};

// y = 2x, but backward never writes the last column of dx.
struct partial_dx_t : test_layer<partial_dx_t> {
    static std::string describe() { return "partial_dx"; }
    template <class T, class In>
    struct impl {
        void forward(const matrix<T>& x, matrix<T>& y, context&) { y = T(2) * x; }
        void backward(const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            if (!dx) return;
            for (std::size_t r = 0; r < dy.shape()[0]; ++r)
                for (std::size_t j = 0; j + 1 < dy.shape()[1]; ++j) (*dx)(r, j) = T(2) * dy(r, j);
        }
    };
};

// Per-feature y = x * scale + shift. The Bug selects what backward gets wrong.
enum class scale_bug { forgets_shift, accumulates_scale, skips_params_without_dx };
template <scale_bug Bug>
struct scale_shift_t : test_layer<scale_shift_t<Bug>> {
    static std::string describe() { return "scale_shift"; }
    template <class T, class In>
    struct impl {
        static constexpr std::size_t n = In::size;
        nnp::vector<T> scale = nnp::vector<T>({n}, T(1)), shift = nnp::vector<T>({n}, T(0));
        nnp::vector<T> dscale = nnp::vector<T>({n}, T(0)), dshift = nnp::vector<T>({n}, T(0));
        template <class F>
        void for_each_param(F&& f) {
            f("scale", scale, dscale);
            f("shift", shift, dshift);
        }
        void forward(const matrix<T>& x, matrix<T>& y, context&) {
            for (std::size_t r = 0; r < x.shape()[0]; ++r)
                for (std::size_t j = 0; j < n; ++j) y(r, j) = x(r, j) * scale(j) + shift(j);
        }
        void backward(const matrix<T>& x, const matrix<T>&, const matrix<T>& dy, matrix<T>* dx,
                      context&) {
            if (Bug == scale_bug::skips_params_without_dx && !dx) return;
            if (Bug != scale_bug::accumulates_scale) dscale.fill(T(0));
            if (Bug != scale_bug::forgets_shift) dshift.fill(T(0));
            for (std::size_t r = 0; r < x.shape()[0]; ++r)
                for (std::size_t j = 0; j < n; ++j) {
                    dscale(j) += dy(r, j) * x(r, j);
                    if (Bug != scale_bug::forgets_shift) dshift(j) += dy(r, j);
                    if (dx) (*dx)(r, j) = dy(r, j) * scale(j);
                }
        }
    };
};

// conv2d (3 kernels of 3 x 3, padding 1) whose backward reads every kernel transposed
// (w[kh][kw] as w[kw][kh]) when it computes dx: the weight gradient stays right.
using conv_3x3 = nnp::conv2d_t<3, 3, true, nnp::padding<1>>;
struct transposed_kernel_conv_t : conv_3x3 {
    static std::string describe() { return "transposed_kernel_conv"; }
    template <class T, class In>
    struct impl : conv_3x3::impl<T, In> {
        static void transpose_kernels(matrix<T>& w) {
            for (std::size_t k = 0; k < w.size(); k += 9)
                for (std::size_t i = 0; i < 3; ++i)
                    for (std::size_t j = i + 1; j < 3; ++j)
                        std::swap(w.data()[k + i * 3 + j], w.data()[k + j * 3 + i]);
        }
        void backward(const matrix<T>& x, const matrix<T>& y, const matrix<T>& dy, matrix<T>* dx,
                      context& ctx) {
            transpose_kernels(this->w);  // bug: the kernel, transposed, for dx
            conv_3x3::impl<T, In>::backward(x, y, dy, dx, ctx);
            transpose_kernels(this->w);
        }
    };
};

// conv2d with stride 2 whose backward scatters dx with stride 1.
using conv_stride_2 = nnp::conv2d_t<2, 3, true, nnp::stride<2>>;
struct wrong_stride_conv_t : conv_stride_2 {
    static std::string describe() { return "wrong_stride_conv"; }
    template <class T, class In>
    struct impl : conv_stride_2::impl<T, In> {
        void backward(const matrix<T>& x, const matrix<T>& y, const matrix<T>& dy, matrix<T>* dx,
                      context& ctx) {
            conv_stride_2::impl<T, In>::backward(x, y, dy, nullptr, ctx);  // parameters: right
            if (!dx) return;
            static constexpr nnp::detail::window_dims g = [] {
                nnp::detail::window_dims d = conv_stride_2::impl<T, In>::geometry;
                d.stride = 1;  // bug
                return d;
            }();
            nnp::detail::ensure_shape(this->dcol, this->col.shape()[0], this->col.shape()[1]);
            nnp::detail::gemm(this->w, this->by_channel, this->dcol, true, false);
            nnp::detail::col2im<g>(this->dcol.data(), dy.shape()[0], dx->data());
        }
    };
};

}  // namespace

// ---- Every built-in layer passes ------------------------------------------------------------

TEST_CASE("gradcheck: dense and dense_no_bias") {
    const auto r = nnp::check_layer_gradient<nnp::dense_t<5>, nnp::shape<3>>(nnp::dense<5>);
    require_pass(r);
    CHECK(r.entries_checked == 4 * 3 + 3 * 5 + 5);  // dx, weight, bias
    CHECK(contains(r.explain(), "passed"));
    require_pass(
        nnp::check_layer_gradient<nnp::dense_t<5, false>, nnp::shape<3>>(nnp::dense_no_bias<5>));
}

TEST_CASE("gradcheck: elementwise activations") {
    require_pass(nnp::check_layer_gradient<nnp::relu_t, nnp::shape<6>>(nnp::relu));
    require_pass(nnp::check_layer_gradient<nnp::leaky_relu_t, nnp::shape<6>>(nnp::leaky_relu(0.1)));
    require_pass(nnp::check_layer_gradient<nnp::tanh_t, nnp::shape<6>>(nnp::tanh_act));
    require_pass(nnp::check_layer_gradient<nnp::sigmoid_t, nnp::shape<6>>(nnp::sigmoid));
    require_pass(nnp::check_layer_gradient<nnp::gelu_t, nnp::shape<6>>(nnp::gelu));
    require_pass(nnp::check_layer_gradient<nnp::gelu_tanh_t, nnp::shape<6>>(nnp::gelu_tanh));
}

TEST_CASE("gelu is the exact erf form, gelu_tanh the approximation (PyTorch's values)") {
    // torch.nn.GELU() and GELU(approximate="tanh") in float64.
    CHECK(nnp::gelu.f(1.0) == doctest::Approx(0.8413447460685429).epsilon(1e-15));
    CHECK(nnp::gelu.f(-0.5) == doctest::Approx(-0.15426876936299344).epsilon(1e-15));
    CHECK(nnp::gelu_tanh.f(1.0) == doctest::Approx(0.8411919906082768).epsilon(1e-15));
    CHECK(nnp::gelu.describe() == "gelu");
    CHECK(nnp::gelu_tanh.describe() == "gelu_tanh");
}

TEST_CASE("gradcheck: softmax and log_softmax") {
    require_pass(nnp::check_layer_gradient<nnp::softmax_t, nnp::shape<5>>(nnp::softmax));
    require_pass(nnp::check_layer_gradient<nnp::log_softmax_t, nnp::shape<5>>(nnp::log_softmax));
}

TEST_CASE("gradcheck: dropout in train and eval") {
    require_pass(nnp::check_layer_gradient<nnp::dropout_t, nnp::shape<8>>(nnp::dropout(0.3)));
    require_pass(
        nnp::check_layer_gradient<nnp::dropout_t, nnp::shape<8>>(nnp::dropout(0.3), eval_mode()));
}

TEST_CASE("gradcheck: batch_norm in train and eval, layer_norm") {
    require_pass(nnp::check_layer_gradient<nnp::batch_norm_t, nnp::shape<4>>(nnp::batch_norm));
    require_pass(
        nnp::check_layer_gradient<nnp::batch_norm_t, nnp::shape<4>>(nnp::batch_norm, eval_mode()));
    nnp::gradient_check_options big;
    big.batch = 7;
    require_pass(nnp::check_layer_gradient<nnp::batch_norm_t, nnp::shape<4>>(nnp::batch_norm, big));
    require_pass(nnp::check_layer_gradient<nnp::layer_norm_t, nnp::shape<5>>(nnp::layer_norm));
}

TEST_CASE("gradcheck: shape-only and merge layers") {
    require_pass(nnp::check_layer_gradient<nnp::flatten_t, nnp::shape<2, 3>>(nnp::flatten));
    require_pass(nnp::check_layer_gradient<nnp::linear_ok_t, nnp::shape<3>>(nnp::linear_ok));
    const auto add = nnp::check_layer_gradient<nnp::add_t, nnp::shape<3>>(nnp::add_t{});
    require_pass(add);
    CHECK(add.entries_checked == 2 * 4 * 3);
    const auto cat =
        nnp::check_layer_gradient<nnp::concat_t, nnp::shape<3>, nnp::shape<2>>(nnp::concat_t{});
    require_pass(cat);
    CHECK(cat.entries_checked == 4 * 3 + 4 * 2);
}

TEST_CASE("gradcheck: a whole model, per node") {
    constexpr auto net = nnp::input<4> | nnp::dense<8> | nnp::tanh_act | nnp::named<"h"> |
                         nnp::dense<8> | nnp::gelu | nnp::add<"h"> | nnp::layer_norm |
                         nnp::dense<3>;
    auto m = nnp::make_model<double>(net, nnp::seed{3});
    nnp::rng gen(11);
    matrix<double> x = matrix<double>({5, 4}, 0.0);
    for (auto& v : x) v = gen.normal();

    const auto r = nnp::check_model_gradient(m, x);
    require_pass(r);
    // The input and every parameter tensor, each labelled by its node.
    CHECK(r.tensors.size() == 1 + m.params().size());
    CHECK(r.tensors[0].tensor == "node 0 input");
    std::size_t entries = x.size();
    for (const auto& p : m.params()) entries += p.size;
    CHECK(r.entries_checked == entries);
    bool saw_layer_norm = false;
    for (const auto& t : r.tensors) saw_layer_norm |= contains(t.tensor, "layer_norm gain");
    CHECK(saw_layer_norm);
    // The model is left on the caller's x.
    CHECK(m.rows() == 5);
    CHECK(&m.output(0) == &x);
}

TEST_CASE("gradcheck: a model with batch_norm and dropout, eval and train") {
    constexpr auto net = nnp::input<4> | nnp::dense<6> | nnp::batch_norm | nnp::relu |
                         nnp::dropout(0.2) | nnp::dense<2>;
    auto m = nnp::make_model<double>(net, nnp::seed{5});
    nnp::rng gen(12);
    matrix<double> x = matrix<double>({6, 4}, 0.0);
    for (auto& v : x) v = gen.normal();
    require_pass(nnp::check_model_gradient(m, x, eval_mode()));

    // In train mode the model draws a new dropout mask every pass: the check must say so
    // instead of reporting nonsense as a pass, and name dropout, not blame a correct backward.
    const auto train = nnp::check_model_gradient(m, x);
    const std::string text = train.explain();
    INFO(text);
    CHECK_FALSE(train.ok);
    CHECK(contains(text, "two forward passes on the same input differ"));
    CHECK(contains(text, "node 4 dropout"));
    CHECK(contains(text, "a stochastic layer in training mode"));
    CHECK(contains(text, "mode::eval"));
    CHECK_FALSE(contains(text, "nearest the output belongs to"));
    CHECK_FALSE(contains(text, "dense<"));
    CHECK(train.mismatches.empty());
    // The model is still left on the caller's x.
    CHECK(&m.output(0) == &x);
}

// ---- Convolutional layers: every option, in double ------------------------------------------

namespace {
template <class In, class L>
nnp::gradient_check_result check(const L& layer, nnp::gradient_check_options o = {}) {
    return nnp::check_layer_gradient<L, In>(layer, o);
}
}  // namespace

TEST_CASE("gradcheck: conv2d with every padding, stride and dilation, with and without bias") {
    using img = nnp::shape<2, 6, 5>;  // not square: height and width are not swapped anywhere
    const auto valid = check<img>(nnp::conv2d<3, 3>);
    require_pass(valid);
    CHECK(valid.entries_checked == 4 * 60 + 3 * 2 * 9 + 3);  // dx, weight, bias
    require_pass(check<img>(nnp::conv2d_no_bias<3, 3>));
    require_pass(check<img>(nnp::conv2d<3, 3, nnp::same_padding>));
    require_pass(check<img>(nnp::conv2d<2, 2, nnp::same_padding>));  // even: one more at the end
    require_pass(check<img>(nnp::conv2d<2, 4, nnp::same_padding, nnp::dilation<2>>));
    require_pass(check<img>(nnp::conv2d<3, 3, nnp::padding<2>>));
    require_pass(check<img>(nnp::conv2d<3, 3, nnp::stride<2>>));
    require_pass(check<img>(nnp::conv2d<2, 3, nnp::stride<3>, nnp::padding<1>>));
    require_pass(check<img>(nnp::conv2d<2, 2, nnp::dilation<2>>));
    require_pass(check<img>(nnp::conv2d_no_bias<2, 3, nnp::stride<2>, nnp::padding<1>, nnp::dilation<2>>));
    require_pass(check<nnp::shape<1, 4, 4>>(nnp::conv2d<2, 1>));
    require_pass(check<nnp::shape<3, 3, 3>>(nnp::conv2d<2, 3>));  // one output position
}

TEST_CASE("gradcheck: max and average pooling, global average pooling") {
    using img = nnp::shape<2, 6, 5>;
    require_pass(check<img>(nnp::max_pool2d<2>));
    require_pass(check<img>(nnp::max_pool2d<3, nnp::stride<1>>));  // overlapping windows
    require_pass(check<img>(nnp::max_pool2d<2, nnp::stride<3>>));  // gaps between windows
    require_pass(check<img>(nnp::avg_pool2d<2>));
    require_pass(check<img>(nnp::avg_pool2d<3, nnp::stride<1>>));
    require_pass(check<img>(nnp::avg_pool2d<2, nnp::stride<3>>));
    require_pass(check<img>(nnp::global_avg_pool));
}

TEST_CASE("gradcheck: per-channel batch_norm, dropout, add and concat on images") {
    using img = nnp::shape<3, 4, 5>;
    require_pass(check<img>(nnp::batch_norm));
    require_pass(check<img>(nnp::batch_norm, eval_mode()));
    nnp::gradient_check_options one;
    one.batch = 1;  // the statistics come from the 20 positions of one image
    require_pass(check<img>(nnp::batch_norm, one));
    require_pass(check<img>(nnp::dropout(0.3)));
    require_pass(check<img>(nnp::relu));
    require_pass(nnp::check_layer_gradient<nnp::add_t, img>(nnp::add_t{}));
    require_pass(nnp::check_layer_gradient<nnp::concat_t, img, nnp::shape<2, 4, 5>>(nnp::concat_t{}));
}

TEST_CASE("gradcheck: a whole CNN, per node") {
    constexpr auto net = nnp::input<1, 6, 6> | nnp::conv2d<3, 3, nnp::same_padding> | nnp::batch_norm |
                         nnp::tanh_act | nnp::named<"a"> | nnp::conv2d<3, 3, nnp::padding<1>> | nnp::tanh_act |
                         nnp::add<"a"> | nnp::max_pool2d<2> | nnp::conv2d<4, 2, nnp::stride<1>> |
                         nnp::tanh_act | nnp::avg_pool2d<2> | nnp::global_avg_pool | nnp::dense<3>;
    auto m = nnp::make_model<double>(net, nnp::seed{3});
    nnp::rng gen(11);
    matrix<double> x = matrix<double>({3, 36}, 0.0);
    for (auto& v : x) v = gen.normal();
    require_pass(nnp::check_model_gradient(m, x));
    require_pass(nnp::check_model_gradient(m, x, eval_mode()));
}

TEST_CASE("gradcheck: a conv2d whose backward transposes the kernel fails on dx") {
    const auto r = check<nnp::shape<2, 5, 5>>(transposed_kernel_conv_t{});
    require_fail(r, "transposed_kernel_conv dx");
    CHECK_FALSE(r.mentions("transposed_kernel_conv weight"));
    CHECK_FALSE(r.mentions("transposed_kernel_conv bias"));
    // and the real layer with the same geometry passes
    require_pass(check<nnp::shape<2, 5, 5>>(conv_3x3{}));
}

TEST_CASE("gradcheck: a conv2d whose backward uses the wrong stride fails on dx") {
    const auto r = check<nnp::shape<1, 7, 7>>(wrong_stride_conv_t{});
    require_fail(r, "wrong_stride_conv dx");
    CHECK_FALSE(r.mentions("wrong_stride_conv weight"));
    require_pass(check<nnp::shape<1, 7, 7>>(conv_stride_2{}));
}

// ---- Broken layers fail, and the report names the tensor ---------------------------------------

TEST_CASE("gradcheck: a sign error in backward fails") {
    const auto r = nnp::check_layer_gradient<sign_error_t, nnp::shape<4>>(sign_error_t{});
    require_fail(r, "sign_error dx", "analytic");
    CHECK(r.mismatches.size() == 4 * 4);  // every entry
    CHECK(r.mismatches[0].kind == nnp::mismatch_kind::wrong_value);
    CHECK(r.mismatches[0].analytic == doctest::Approx(-r.mismatches[0].numeric).epsilon(1e-6));
}

TEST_CASE("gradcheck: a transposed weight gradient fails") {
    const auto r =
        nnp::check_layer_gradient<transposed_dense_t, nnp::shape<3>>(transposed_dense_t{});
    require_fail(r, "transposed_dense weight");
    CHECK_FALSE(r.mentions("transposed_dense dx"));  // dx is right
    for (const auto& mm : r.mismatches) CHECK(mm.tensor == "transposed_dense weight");
    // The diagonal of a transposed matrix is right: only off-diagonal entries are flagged.
    for (const auto& mm : r.mismatches) CHECK(mm.index % 3 != mm.index / 3);
    CHECK(r.mismatches.size() == 6);
}

TEST_CASE("gradcheck: a missing term (sigmoid without y(1-y)) fails") {
    const auto r = nnp::check_layer_gradient<missing_term_t, nnp::shape<4>>(missing_term_t{});
    require_fail(r, "missing_term dx");
    CHECK(r.mismatches.size() == 4 * 4);
    CHECK(r.max_rel_error > 0.5);
}

TEST_CASE("gradcheck: a dx entry never written is flagged as such") {
    const auto r = nnp::check_layer_gradient<partial_dx_t, nnp::shape<3>>(partial_dx_t{});
    require_fail(r, "partial_dx dx", "never written");
    CHECK(r.mismatches.size() == 4);  // the last column of each of the 4 rows
    for (const auto& mm : r.mismatches) {
        CHECK(mm.never_written);
        CHECK(mm.kind == nnp::mismatch_kind::never_written);
        CHECK(mm.index % 3 == 2);
        CHECK(std::isfinite(mm.numeric));
        CHECK(mm.numeric != 0.0);
    }
    CHECK(contains(r.explain(), "partial_dx dx[2]: analytic nan numeric"));
    CHECK(contains(r.explain(), "partial_dx dx: 4 of 12 wrong (4 never written)"));
}

TEST_CASE("gradcheck: a parameter gradient never written is flagged as such") {
    using layer = scale_shift_t<scale_bug::forgets_shift>;
    const auto r = nnp::check_layer_gradient<layer, nnp::shape<3>>(layer{});
    require_fail(r, "scale_shift shift", "never written");
    CHECK_FALSE(r.mentions("scale_shift scale"));
    CHECK_FALSE(r.mentions("scale_shift dx"));
    CHECK(r.mismatches.size() == 3);
    for (const auto& mm : r.mismatches) CHECK(mm.never_written);
}

TEST_CASE("gradcheck: accumulating into a gradient instead of assigning fails") {
    using layer = scale_shift_t<scale_bug::accumulates_scale>;
    const auto r = nnp::check_layer_gradient<layer, nnp::shape<3>>(layer{});
    require_fail(r, "scale_shift scale", "instead of assigning");
    CHECK_FALSE(r.mentions("scale_shift shift"));
    for (const auto& mm : r.mismatches) CHECK_FALSE(mm.never_written);
}

TEST_CASE("gradcheck: parameter gradients must not depend on dx being asked for") {
    using layer = scale_shift_t<scale_bug::skips_params_without_dx>;
    const auto r = nnp::check_layer_gradient<layer, nnp::shape<3>>(layer{});
    require_fail(r, "scale_shift scale", "dx == nullptr");
    CHECK(r.mentions("scale_shift shift"));
    for (const auto& mm : r.mismatches)
        CHECK(mm.kind == nnp::mismatch_kind::differs_without_dx);
}

TEST_CASE("gradcheck: a broken layer inside a model is reported per node") {
    constexpr auto net = nnp::input<3> | nnp::dense<4> | sign_error_t{} | nnp::dense<2>;
    auto m = nnp::make_model<double>(net, nnp::seed{9});
    nnp::rng gen(13);
    matrix<double> x = matrix<double>({4, 3}, 0.0);
    for (auto& v : x) v = gen.normal();
    const auto r = nnp::check_model_gradient(m, x);
    // The wrong dx of node 2 corrupts everything upstream of it, nothing downstream.
    require_fail(r, "node 1 dense<4> weight");
    CHECK(r.mentions("node 0 input"));
    CHECK(r.mentions("node 1 dense<4> bias"));
    CHECK_FALSE(r.mentions("node 3 dense<2>"));
    // Checked alone, each node names the one whose backward is wrong.
    CHECK(contains(r.explain(), "checked alone on the inputs it receives, node 2 sign_error gives a wrong "
                                "gradient (dx): its backward is wrong"));
    CHECK(contains(r.explain(), "nearest the output belongs to node 1 dense<4>"));
    CHECK(contains(r.explain(), "up to node 3 dense<2>"));
    for (const auto& t : r.tensors)
        if (t.node == 3) CHECK(t.mismatches == 0);
}

// A user-defined layer: a learned per-feature gain. It states its linearity class and its
// shape rule (the static checks need both), and provides its runtime part at any scalar T:
// parameters, forward, and a backward that assigns dx and every parameter gradient. The
// numerical gradient check proves the backward right before the layer is trusted.
#include <cstdio>
#include <nnprobe/gradient_check.hpp>
#include <nnprobe/nnprobe.hpp>

struct feature_gain : nnp::layer_base<feature_gain> {
    static constexpr nnp::linearity_class linearity = nnp::linearity_class::affine_elementwise;
    template <class In>
    using output_shape = In;  // the shape rule: same shape out as in
    static std::string describe() { return "feature_gain"; }

    template <class T, class In>
    struct impl {
        nnp::vector<T> gain = nnp::detail::filled_vector<T>(In::size, T(1));
        nnp::vector<T> dgain = nnp::detail::filled_vector<T>(In::size, T(0));

        template <class F>
        void for_each_param(F&& f) { f("gain", gain, dgain); }

        void forward(const nnp::matrix<T>& x, nnp::matrix<T>& y, nnp::context&) {
            for (std::size_t r = 0; r < x.shape()[0]; ++r)
                for (std::size_t j = 0; j < In::size; ++j) y(r, j) = gain(j) * x(r, j);
        }
        void backward(const nnp::matrix<T>& x, const nnp::matrix<T>&, const nnp::matrix<T>& dy,
                      nnp::matrix<T>* dx, nnp::context&) {
            dgain.fill(T(0));
            for (std::size_t r = 0; r < x.shape()[0]; ++r)
                for (std::size_t j = 0; j < In::size; ++j) {
                    dgain(j) += dy(r, j) * x(r, j);
                    if (dx) (*dx)(r, j) = dy(r, j) * gain(j);
                }
        }
    };
};

using namespace nnp;

// Elementwise-affine: between two dense layers it would need a nonlinearity (C2), so it
// goes after the relu here.
constexpr auto net = input<4> | dense<16> | relu | feature_gain{} | dense<3>;

int main() {
    const auto check = check_layer_gradient<feature_gain, shape<4>>(feature_gain{});
    std::printf("feature_gain gradient check: %s (%zu entries, max abs error %.1e)\n",
                check.ok ? "ok" : "FAILED", check.entries_checked, check.max_abs_error);

    auto data = load_csv<features<4>, classes<3>>(NNP_DATA_DIR "/iris.csv");
    standardise(data);
    auto model = make_model(net, seed{7});
    trainer train(model, softmax_cross_entropy, adam{.lr = 1e-2});
    for (int step = 0; step < 200; ++step) train.step(data.x, data.y);
    const double acc = accuracy(model.forward(data.x, mode::eval), data.y);
    std::printf("%s: training accuracy %.1f%%\n", model.node(3).label().c_str(), 100 * acc);
    return check.ok && acc >= 0.97 ? 0 : 1;
}

// C7 for the runtime part: a user layer used in a pipeline (the probes build models from it)
// must give `template <class T, class In> struct impl`. Checked at pipeline(), not deep in
// the probes' mini-run.
// Twin: the layer gives it.
// expect: nnprobe: C7: this user-defined layer has no runtime part
// expect: layer_without_runtime_part<nnp::detail::node_ref<3, square>>
#include <nnprobe/pipeline.hpp>

// y = x * x, elementwise.
struct square {
    static constexpr nnp::linearity_class linearity = nnp::linearity_class::nonlinear;
    template <class In>
    using output_shape = In;
#ifdef NNP_TWIN
    template <class T, class In>
    struct impl {
        void forward(const nnp::matrix<T>& x, nnp::matrix<T>& y, nnp::context&) { y = x * x; }
        void backward(const nnp::matrix<T>& x, const nnp::matrix<T>&, const nnp::matrix<T>& dy,
                      nnp::matrix<T>* dx, nnp::context&) {
            if (dx) *dx = 2 * x * dy;
        }
    };
#endif
};

constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | square{} | nnp::dense<3>;
constexpr auto p = nnp::pipeline(nnp::data<nnp::features<4>, nnp::classes<3>>, net,
                                 nnp::softmax_cross_entropy, nnp::adam{.lr = 1e-2});

int main() { (void)p; }

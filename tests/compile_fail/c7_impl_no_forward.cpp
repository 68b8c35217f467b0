// C7 for the runtime part: the layer's impl has no forward (checked at make_model, not deep
// inside the model).
// Twin: it has one.
// expect: nnprobe: C7: this user-defined layer's impl has no forward
// expect: runtime_part_without_forward<nnp::detail::node_ref<3, square>>
#include <nnprobe/model.hpp>

// y = x * x, elementwise.
struct square {
    static constexpr nnp::linearity_class linearity = nnp::linearity_class::nonlinear;
    template <class In>
    using output_shape = In;
    template <class T, class In>
    struct impl {
#ifdef NNP_TWIN
        void forward(const nnp::matrix<T>& x, nnp::matrix<T>& y, nnp::context&) { y = x * x; }
#endif
        void backward(const nnp::matrix<T>& x, const nnp::matrix<T>&, const nnp::matrix<T>& dy,
                      nnp::matrix<T>* dx, nnp::context&) {
            if (dx) *dx = 2 * x * dy;
        }
    };
};

constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | square{} | nnp::dense<3>;

int main() {
    auto model = nnp::make_model(net, nnp::seed{1});
    (void)model;
}

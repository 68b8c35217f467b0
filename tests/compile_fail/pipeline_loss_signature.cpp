// A user loss is checked at pipeline() against the labels it will be given: this one takes
// targets (a matrix), the labels are classes (integers).
// Twin: the labels are targets.
// expect: nnprobe: this loss cannot be called as loss(output, labels, grad)
// expect: loss_with_the_wrong_call_signature<absolute_error, nnp::classes<3>>
#include <nnprobe/pipeline.hpp>

// Mean absolute error.
struct absolute_error {
    template <class T>
    T operator()(const nnp::matrix<T>& out, const nnp::matrix<T>& target, nnp::matrix<T>& grad) const {
        grad = xt::sign(out - target) / static_cast<T>(out.size());
        return xt::mean(xt::abs(out - target))();
    }
};

constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<3>;
#ifdef NNP_TWIN
constexpr auto d = nnp::data<nnp::features<4>, nnp::targets<3>>;
#else
constexpr auto d = nnp::data<nnp::features<4>, nnp::classes<3>>;
#endif
constexpr auto p = nnp::pipeline(d, net, absolute_error{}, nnp::adam{.lr = 1e-2});

int main() { (void)p; }

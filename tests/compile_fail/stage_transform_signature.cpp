// A transform is checked where it is given (.transform): this one returns a new matrix
// instead of changing the batch in place.
// Twin: in place. The call after it (.transform again) is absorbed: one error.
// expect: nnprobe: this transform cannot be called as t(x)
// expect: transform_with_the_wrong_call_signature<halved>
#include <nnprobe/pipeline.hpp>

struct halved {
#ifdef NNP_TWIN
    void operator()(nnp::matrix<float>& x) const { x *= 0.5f; }
#else
    nnp::matrix<float> operator()(const nnp::matrix<float>& x, float k) const { return x * k; }
#endif
};

constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<3>;
const auto p = nnp::pipeline(nnp::data<nnp::features<4>, nnp::classes<3>>, net,
                             nnp::softmax_cross_entropy, nnp::adam{.lr = 1e-2})
                   .transform(halved{})
                   .transform(nnp::standardised);

int main() { (void)p; }

// A transform's fit must take the training data set: this one takes the feature matrix, so
// the mini-run could not call it and the transform would run unfitted.
// Twin: fit(const DS&).
// expect: nnprobe: this transform's fit cannot be given the training data
// expect: transform_whose_fit_does_not_take_the_data_set<centred
#include <nnprobe/pipeline.hpp>

struct centred {
    float mean = 0;
#ifdef NNP_TWIN
    void fit(const nnp::dataset<nnp::features<4>, nnp::classes<3>>& ds) { mean = xt::mean(ds.x)(); }
#else
    void fit(const nnp::matrix<float>& x) { mean = xt::mean(x)(); }
#endif
    void operator()(nnp::matrix<float>& x) const { x -= mean; }
};

constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<3>;
const auto p = nnp::pipeline(nnp::data<nnp::features<4>, nnp::classes<3>>, net,
                             nnp::softmax_cross_entropy, nnp::adam{.lr = 1e-2})
                   .transform(centred{});

int main() { (void)p; }

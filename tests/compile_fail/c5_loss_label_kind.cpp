// C5: class labels given to a regression loss.
// Twin: a classification loss.
// expect: nnprobe: C5: the loss does not fit the labels
// expect: loss_does_not_fit_the_labels<nnp::mse_t, nnp::classes<3>>
#include <nnprobe/nnprobe.hpp>
#include <nnprobe/pipeline.hpp>

constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<3>;

#ifdef NNP_TWIN
constexpr auto loss = nnp::softmax_cross_entropy;
#else
constexpr auto loss = nnp::mse;
#endif

constexpr auto p = nnp::pipeline(nnp::data<nnp::features<4>, nnp::classes<3>>, net, loss,
                                    nnp::adam{.lr = 1e-2});

int main() { (void)p; }

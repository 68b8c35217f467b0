// C5: three classes but four logits.
// Twin: one logit per class.
// expect: nnprobe: C5: the output's width differs from the labels
// expect: output_width_differs_from_labels<nnp::detail::node_ref<3, nnp::shape<4>>, nnp::classes<3>>
#include <nnprobe/nnprobe.hpp>
#include <nnprobe/pipeline.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<3>;
#else
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<4>;
#endif

constexpr auto p = nnp::pipeline(nnp::data<nnp::features<4>, nnp::classes<3>>, net,
                                    nnp::softmax_cross_entropy, nnp::adam{.lr = 1e-2});

int main() { (void)p; }

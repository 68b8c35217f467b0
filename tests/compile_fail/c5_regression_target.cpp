// C5: a regression target of two values, a network with one output.
// Twin: two outputs.
// expect: nnprobe: C5: the output's width differs from the labels
// expect: output_width_differs_from_labels<nnp::detail::node_ref<3, nnp::shape<1>>, nnp::targets<2>>
#include <nnprobe/nnprobe.hpp>
#include <nnprobe/pipeline.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::tanh_act | nnp::dense<2>;
#else
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::tanh_act | nnp::dense<1>;
#endif

constexpr auto p = nnp::pipeline(nnp::data<nnp::features<4>, nnp::targets<2>>, net, nnp::mse,
                                    nnp::sgd{.lr = 1e-2});

int main() { (void)p; }

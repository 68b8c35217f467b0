// C6: the data has 64 features (8x8 digits), the network takes 4.
// Twin: the network takes 64.
// expect: nnprobe: C6: the data's feature shape differs from the network's input shape
// expect: data_shape_differs_from_network_input<nnp::shape<64>, nnp::shape<4>>
#include <nnprobe/nnprobe.hpp>
#include <nnprobe/pipeline.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<64> | nnp::dense<16> | nnp::relu | nnp::dense<10>;
#else
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<10>;
#endif

constexpr auto p = nnp::pipeline(nnp::data<nnp::features<64>, nnp::classes<10>>, net,
                                    nnp::softmax_cross_entropy, nnp::adam{.lr = 1e-2});

int main() { (void)p; }

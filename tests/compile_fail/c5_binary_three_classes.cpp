// C5: binary cross-entropy with three classes is not a width mismatch but the wrong loss.
// Twin: two classes, one logit.
// expect: nnprobe: C5: binary cross-entropy needs two classes (or targets)
// expect: binary_cross_entropy_needs_two_classes<nnp::binary_cross_entropy_t, nnp::classes<3>>
#include <nnprobe/pipeline.hpp>

#ifdef NNP_TWIN
constexpr auto labels = nnp::data<nnp::features<4>, nnp::classes<2>>;
#else
constexpr auto labels = nnp::data<nnp::features<4>, nnp::classes<3>>;
#endif
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<1>;
constexpr auto p = nnp::pipeline(labels, net, nnp::binary_cross_entropy, nnp::adam{.lr = 1e-2});

int main() { (void)p; }

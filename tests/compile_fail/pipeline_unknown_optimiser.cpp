// An optimiser is a settings type nnprobe has a state for (sgd, adam); another type is
// reported where it is given, not as an incomplete optimizer_state deep in the probes.
// Twin: adam.
// expect: nnprobe: this optimiser has no optimizer_state<Opt, T>
// expect: unknown_optimiser<rmsprop>
#include <nnprobe/pipeline.hpp>

struct rmsprop {
    double lr = 1e-3;
};

constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<3>;
#ifdef NNP_TWIN
constexpr auto opt = nnp::adam{.lr = 1e-2};
#else
constexpr auto opt = rmsprop{.lr = 1e-2};
#endif
constexpr auto p = nnp::pipeline(nnp::data<nnp::features<4>, nnp::classes<3>>, net,
                                 nnp::softmax_cross_entropy, opt);

int main() { (void)p; }

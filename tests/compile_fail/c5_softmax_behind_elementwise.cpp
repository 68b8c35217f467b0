// C5 looks back from the output through elementwise-linear nodes: softmax followed by a
// user's elementwise gain still feeds probabilities to a loss that applies softmax itself.
// Twin: the network ends in its logits (then the gain).
// expect: nnprobe: C5: the network ends in softmax but the loss expects logits
// expect: softmax_output_fed_to_a_loss_that_expects_logits<nnp::detail::node_ref<4, nnp::detail::softmax_spec<false>>, nnp::softmax_cross_entropy_t>
#include <nnprobe/pipeline.hpp>

// y = 2 x, elementwise.
struct doubled {
    static constexpr nnp::linearity_class linearity = nnp::linearity_class::affine_elementwise;
    template <class In>
    using output_shape = In;
    template <class T, class In>
    struct impl {
        void forward(const nnp::matrix<T>& x, nnp::matrix<T>& y, nnp::context&) { y = 2 * x; }
        void backward(const nnp::matrix<T>&, const nnp::matrix<T>&, const nnp::matrix<T>& dy,
                      nnp::matrix<T>* dx, nnp::context&) {
            if (dx) *dx = 2 * dy;
        }
    };
};

#ifdef NNP_TWIN
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<3> | doubled{};
#else
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<3> | nnp::softmax
                   | doubled{};
#endif

constexpr auto p = nnp::pipeline(nnp::data<nnp::features<4>, nnp::classes<3>>, net,
                                 nnp::softmax_cross_entropy, nnp::adam{.lr = 1e-2});

int main() { (void)p; }

// An output gathering stage is checked where it is given (.gathered): this one returns the
// order instead of filling it.
// Twin: fills it.
// expect: nnprobe: this gather stage cannot be called as g(rows, order)
// expect: gather_with_the_wrong_call_signature<reversed>
#include <nnprobe/pipeline.hpp>

struct reversed {
#ifdef NNP_TWIN
    void operator()(std::size_t rows, std::vector<std::size_t>& order) const {
        order.resize(rows);
        for (std::size_t i = 0; i < rows; ++i) order[i] = rows - 1 - i;
    }
#else
    std::vector<std::size_t> operator()(std::size_t rows) const {
        std::vector<std::size_t> order(rows);
        for (std::size_t i = 0; i < rows; ++i) order[i] = rows - 1 - i;
        return order;
    }
#endif
};

constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<3>;
constexpr auto p = nnp::pipeline(nnp::data<nnp::features<4>, nnp::classes<3>>, net,
                                 nnp::softmax_cross_entropy, nnp::adam{.lr = 1e-2})
                       .gathered(reversed{});

int main() { (void)p; }

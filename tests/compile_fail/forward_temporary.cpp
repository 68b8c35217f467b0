// model::forward keeps a reference to its input batch (backward reads it): a temporary, or a
// float batch given to a double model (converted into a temporary), would dangle.
// Twin: named matrices of the model's scalar type.
// max-errors: 2
// expect: nnprobe: model::forward keeps a reference to its input batch
// expect: forward_input_would_dangle<xt::xtensor_container<xt::uvector<float, std::allocator<float> >, 2, xt::layout_type::row_major, xt::xtensor_expression_tag>&&
// expect: forward_input_would_dangle<xt::xtensor_container<xt::uvector<float, std::allocator<float> >, 2, xt::layout_type::row_major, xt::xtensor_expression_tag>&, xt::xtensor_container<xt::uvector<double
#include <nnprobe/model.hpp>

constexpr auto net = nnp::input<2> | nnp::dense<4> | nnp::relu | nnp::dense<1>;

nnp::matrix<float> batch() { return nnp::matrix<float>({3, 2}, 0.5f); }

int main() {
    auto model = nnp::make_model(net);
    auto twin = nnp::make_model<double>(net);
    nnp::matrix<float> x({3, 2}, 0.5f);
#ifdef NNP_TWIN
    const nnp::matrix<float> kept = batch();
    model.forward(kept);
    nnp::matrix<double> converted = x;
    twin.forward(converted);
#else
    model.forward(batch());  // a temporary
    twin.forward(x);         // float into a double model: converted into a temporary
#endif
    model.backward();
}

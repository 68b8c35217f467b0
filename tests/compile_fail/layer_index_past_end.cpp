// model.layer<I>() with I past the last node: an nnprobe message, not a raw std::tuple error.
// Twin: the last node (3).
// expect: nnprobe: layer<I>(): there is no node I
// expect: node_index_past_the_last_node<4, 4>
#include <nnprobe/model.hpp>

constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<3>;

int main() {
    auto model = nnp::make_model(net, nnp::seed{1});
#ifdef NNP_TWIN
    auto& last = model.layer<3>();
#else
    auto& last = model.layer<4>();
#endif
    (void)last;
}

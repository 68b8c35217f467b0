// A graph that ends with from<"x">: the cursor moved away from the last node and nothing
// follows, so the from<...> selects nothing (the output stays the last node appended).
// Twin: the branch it starts is appended and joined.
// expect: nnprobe: the graph ends with from<...>
// expect: graph_ends_with_from<nnp::detail::node_ref<2, nnp::relu_t>>
#include <nnprobe/model.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::named<"h"> | nnp::dense<16>
                   | nnp::relu | nnp::add<"h"> | nnp::dense<3>;
#else
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::named<"h"> | nnp::dense<16>
                   | nnp::relu | nnp::dense<3> | nnp::from<"h">;
#endif

int main() {
    auto model = nnp::make_model(net, nnp::seed{1});
    (void)model;
}

// Node names: from<"x"> (and add/concat) must name an existing node.
// Twin: the node is named first.
// expect: nnprobe: from<...> names no node: name it first with named<...>
// expect: no_node_named<nnp::detail::node_name<'t', 'r', 'u', 'n', 'k'>>
#include <nnprobe/nnprobe.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::named<"trunk">
                   | nnp::dense<16> | nnp::relu | nnp::from<"trunk"> | nnp::dense<3>;
#else
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu
                   | nnp::dense<16> | nnp::relu | nnp::from<"trunk"> | nnp::dense<3>;
#endif

int main() { (void)net; }

// Node names must be unique.
// Twin: distinct names.
// expect: nnprobe: two nodes share this name: node names must be unique
// expect: name_already_used<nnp::detail::node_name<'h'>>
#include <nnprobe/nnprobe.hpp>

#ifdef NNP_TWIN
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::named<"h1">
                   | nnp::dense<16> | nnp::relu | nnp::named<"h2"> | nnp::dense<3>;
#else
constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::named<"h">
                   | nnp::dense<16> | nnp::relu | nnp::named<"h"> | nnp::dense<3>;
#endif

int main() { (void)net; }

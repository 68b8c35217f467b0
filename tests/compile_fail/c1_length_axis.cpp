// C1: a sequence node whose positions are not the input's: the batch's padding mask describes
// the input's positions only, so a user layer that halves the length leaves the nodes after
// it with no mask that fits. Twin: the layer keeps the length axis (it mixes each position
// with the next one instead).
// expect: nnprobe: C1: this node's positions are not the input's
// expect: length_axis_not_the_inputs<nnp::detail::node_ref<0, nnp::sequence<8, 1, true>>, nnp::detail::node_ref<2, merge_pairs>, nnp::sequence<4, 16, true>>
#include <nnprobe/graph.hpp>
#include <nnprobe/layers/embedding.hpp>

struct merge_pairs {
    static constexpr nnp::linearity_class linearity = nnp::linearity_class::affine_elementwise;
#ifdef NNP_TWIN
    template <class In>
    using output_shape = In;
#else
    template <class In>
    using output_shape = nnp::sequence<In::max_length / 2, In::width, In::padded>;
#endif
};

constexpr auto net = nnp::token_input<8> | nnp::embedding<32, 16> | merge_pairs{};

int main() { (void)net; }

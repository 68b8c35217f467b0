// The model's non-template pieces (include/nnprobe/model.hpp), compiled once here.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nnprobe/model.hpp>

namespace nnp::detail {

void add_node_info(std::vector<node_info>& nodes, std::size_t i, std::string layer, std::string_view name,
                   std::string shape, linearity_class lin, const std::size_t* inputs, std::size_t input_count,
                   bool couples_batch) {
    nodes.push_back(node_info{i, std::move(layer), std::string(name), std::move(shape), lin,
                              std::vector<std::size_t>(inputs, inputs + input_count), false, couples_batch});
}

}  // namespace nnp::detail

#pragma once
// "Its input is zero" against "bypassed": a tensor whose gradient is zero either does not
// reach the loss, or is fed nothing (dW = x^T dy is zero when x is). Asked only on a failure
// path: the recorded mini-run is replayed to the step (it is deterministic) and the node's
// inputs read from a snapshot.
#include <string>
#include <vector>

#include <fmt/core.h>

#include "any_run.hpp"

namespace nnp::detail {

// The inputs of `node` whose every value is zero at step `step` of the run of `t`'s pipeline on
// its subset, seeded with `s`; empty when any input holds a non-zero value
// (src/recorded_run.cpp, for float and double).
template <class T>
std::vector<std::size_t> zero_inputs_at(const probe_target<T>& t, seed s, std::size_t node, std::size_t step);
extern template std::vector<std::size_t> zero_inputs_at(const probe_target<float>&, seed, std::size_t, std::size_t);
extern template std::vector<std::size_t> zero_inputs_at(const probe_target<double>&, seed, std::size_t, std::size_t);

// The sentence for a zero gradient fed by zero inputs: "its input, node 0 input (the data after
// the pipeline's transforms), is zero for every sample at step 0".
inline std::string zero_input_text(const std::vector<node_info>& nodes, const std::vector<std::size_t>& inputs,
                                   const std::string& at) {
    std::string names;
    for (std::size_t k = 0; k < inputs.size(); ++k) {
        const auto& n = nodes[inputs[k]];
        names += (k ? " and " : "") + n.label() + (n.index == 0 ? " (the data after the pipeline's transforms)" : "");
    }
    return fmt::format("its input{}, {}, {} zero for every sample at {}", inputs.size() > 1 ? "s" : "", names,
                       inputs.size() > 1 ? "are" : "is", at);
}

inline constexpr const char* zero_input_hint =
    "the node is fed nothing, so nothing can flow into its weights: does a transform zero the data "
    "(a mask's keep and drop probabilities swapped?), or are the units before it all dead?";

}  // namespace nnp::detail

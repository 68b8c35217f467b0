#pragma once
// The standard suite: the four seed checks on one pipeline, each its own verdict.
#include <vector>

#include "all_layers_change.hpp"
#include "batch_invariance.hpp"
#include "gradients_flow.hpp"
#include "overfits.hpp"
#include "report.hpp"

namespace nnp {

template <class T = float, class P>
std::vector<verdict> probe_suite(const P& p, const typename P::dataset_type& data,
                                 const probe_options& o = {}) {
    return {overfits<T>(p, data, o), gradients_flow<T>(p, data, o), all_layers_change<T>(p, data, o),
            batch_invariance<T>(p, data, o)};
}

// The network as one line: "input<4> | dense<16> | relu | dense<3>", merges with their inputs.
inline std::string graph_text(const std::vector<node_info>& nodes) {
    std::string s;
    for (const auto& n : nodes) {
        std::string part = n.index == 0 ? "input<" + n.shape + ">" : n.layer;
        if (n.inputs.size() > 1 || (!n.inputs.empty() && n.inputs[0] + 1 != n.index)) {
            part += "(";
            for (std::size_t k = 0; k < n.inputs.size(); ++k)
                part += (k ? ", " : "") + std::string("node ") + std::to_string(n.inputs[k]);
            part += ")";
        }
        if (!n.name.empty()) part += " \"" + n.name + "\"";
        s += (n.index ? " | " : "") + part;
    }
    return s;
}

// A report section: the standard suite's verdicts plus a recorded run of `steps` steps.
template <class T = float, class P>
report_section report_for(std::string title, const P& p, const typename P::dataset_type& data,
                          const probe_options& o = {}, std::size_t steps = 20) {
    report_section r;
    r.title = std::move(title);
    r.verdicts = probe_suite<T>(p, data, o);
    const auto rec = mini_run<T>(p, detail::probe_subset(data, o), run_options{o.run_seed, steps, true, {}});
    r.description = graph_text(rec.nodes_info);
    r.loss = rec.loss;
    r.tensors = rec.nodes.tensors();
    for (const auto& t : r.tensors) r.tensor_labels.push_back(detail::tensor_label(rec.nodes_info[t.node], t.tensor));
    return r;
}

}  // namespace nnp

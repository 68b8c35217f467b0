#pragma once
// The standard suite: every check on one pipeline, each its own verdict; a check that
// fails on a pipeline with stages of the user's own names the stage whose replacement makes
// it pass (blame_stage).
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "all_layers_change.hpp"
#include "batch_invariance.hpp"
#include "cross_sample_independence.hpp"
#include "determinism.hpp"
#include "finite.hpp"
#include "gradients_flow.hpp"
#include "guilty_stage.hpp"
#include "init_sane.hpp"
#include "overfits.hpp"
#include "pipeline_gradient.hpp"
#include "report.hpp"
#include "unit_health.hpp"

namespace nnp {

namespace detail {
template <class T, class P>
std::vector<verdict> every_check(const P& p, const typename P::dataset_type& data, const probe_options& o) {
    return {overfits<T>(p, data, o), gradients_flow<T>(p, data, o), all_layers_change<T>(p, data, o),
            batch_invariance<T>(p, data, o), init_sane<T>(p, data, o), determinism<T>(p, data, o),
            cross_sample_independence<T>(p, data, o), finite<T>(p, data, o), gradient_check<T>(p, data, o),
            unit_health<T>(p, data, o)};
}
}  // namespace detail

template <class T = float, class P>
std::vector<verdict> probe_suite(const P& p, const typename P::dataset_type& data,
                                 const probe_options& o = {}) {
    return blame_stage([](const auto& q, const auto& d, const auto& oo) { return detail::every_check<T>(q, d, oo); },
                       p, data, o);
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

namespace detail {

// Counts an aggregate's fields: the most initialisers `T{...}` accepts.
struct any_field {
    template <class F>
    operator F() const;
};
template <class T, class... Fields>
constexpr std::size_t field_count() {
    if constexpr (requires { T{Fields{}..., any_field{}}; })
        return field_count<T, Fields..., any_field>();
    else
        return sizeof...(Fields);
}

inline std::string setting_text(seed s) { return std::to_string(s.value); }
template <class V>
std::string setting_text(const V& v) {
    return fmt::format("{}", v);
}

// Every probe option as (name, value), for the report.
inline std::vector<std::pair<std::string, std::string>> option_settings(const probe_options& o) {
    static_assert(field_count<probe_options>() == 9,
                  "nnprobe: option_settings lists every field of probe_options; add the new one");
    return {{"run_seed", setting_text(o.run_seed)},
            {"per_class", setting_text(o.per_class)},
            {"overfit_epochs", setting_text(o.overfit_epochs)},
            {"flow_epochs", setting_text(o.flow_epochs)},
            {"change_steps", setting_text(o.change_steps)},
            {"invariance_warmup", setting_text(o.invariance_warmup)},
            {"init_warmup", setting_text(o.init_warmup)},
            {"determinism_steps", setting_text(o.determinism_steps)},
            {"finite_steps", setting_text(o.finite_steps)}};
}

}  // namespace detail

// A report section: the standard suite's verdicts plus a recorded run of `steps` steps.
template <class T = float, class P>
report_section report_for(std::string title, const P& p, const typename P::dataset_type& data,
                          const probe_options& o = {}, std::size_t steps = 20) {
    report_section r;
    r.title = std::move(title);
    r.verdicts = probe_suite<T>(p, data, o);
    const auto sub = detail::probe_subset(data, o);
    const auto rec = mini_run<T>(p, sub, run_options{o.run_seed, steps, true, {}});
    r.description = graph_text(rec.nodes_info);
    r.loss = rec.loss;
    r.settings = detail::option_settings(o);
    r.settings.insert(r.settings.begin() + 1, {"subset", std::to_string(sub.size()) + " samples"});
    r.settings.push_back({"scalar", std::is_same_v<T, float> ? "float" : std::is_same_v<T, double> ? "double" : "other"});
    r.settings.push_back({"recorded steps", std::to_string(steps)});
    r.tensors = rec.nodes.tensors();
    for (const auto& t : r.tensors) r.tensor_labels.push_back(detail::tensor_label(rec.nodes_info[t.node], t.tensor));
    return r;
}

}  // namespace nnp

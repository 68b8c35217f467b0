#pragma once
// The probes on a pipeline that failed a static check (nnp::invalid_pipeline): they compile
// and run nothing, so that the check's message is the only error the program prints.
#include <string>
#include <utility>
#include <vector>

#include <nnprobe/pipeline.hpp>

#include "report.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
inline verdict not_run(const char* check) {
    verdict v;
    v.check = check;
    v.explanation = std::string(check) + ": not run: the pipeline failed a static check";
    return v;
}
}  // namespace detail

template <class T = float, class... A>
verdict overfits(const invalid_pipeline&, const A&...) { return detail::not_run("overfits"); }
template <class T = float, class... A>
verdict gradients_flow(const invalid_pipeline&, const A&...) { return detail::not_run("gradients_flow"); }
template <class T = float, class... A>
verdict all_layers_change(const invalid_pipeline&, const A&...) { return detail::not_run("all_layers_change"); }
template <class T = float, class... A>
verdict batch_invariance(const invalid_pipeline&, const A&...) { return detail::not_run("batch_invariance"); }
template <class T = float, class... A>
verdict init_sane(const invalid_pipeline&, const A&...) { return detail::not_run("init_sane"); }
template <class T = float, class... A>
verdict determinism(const invalid_pipeline&, const A&...) { return detail::not_run("determinism"); }
template <class T = float, class... A>
verdict cross_sample_independence(const invalid_pipeline&, const A&...) {
    return detail::not_run("cross_sample_independence");
}
template <class T = float, class... A>
verdict finite(const invalid_pipeline&, const A&...) { return detail::not_run("finite"); }
template <class T = float, class... A>
verdict gradient_check(const invalid_pipeline&, const A&...) { return detail::not_run("gradient_check"); }
template <class T = float, class... A>
verdict unit_health(const invalid_pipeline&, const A&...) { return detail::not_run("unit_health"); }
template <class T = float, class... A>
std::vector<verdict> probe_suite(const invalid_pipeline&, const A&...) { return {}; }
template <class T = float, class... A>
report_section report_for(std::string title, const invalid_pipeline&, const A&...) {
    report_section r;
    r.title = std::move(title);
    return r;
}

// What mini_run leaves behind, without recorders.
struct invalid_run_record {
    std::vector<double> loss, accuracy;
    std::vector<node_info> nodes_info;
    std::size_t steps = 0;
};
template <class T = float, class... A>
invalid_run_record mini_run(const invalid_pipeline&, const A&...) { return {}; }

}  // namespace nnp

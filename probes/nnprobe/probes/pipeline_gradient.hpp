#pragma once
// gradient_check: the pipeline's own network, instantiated in double, after a few training
// steps of its own pipeline, on a training-mode forward pass of the probe subset through its
// transforms: every node checked alone on the inputs it received there, each parameter
// gradient and each input gradient its backward gives against central differences of its
// forward. Each node is judged on its own code and inputs, so the node named is the one whose
// backward is wrong, a user layer's input gradient included (a whole-model comparison sees a
// wrong input gradient only in the nodes upstream of it).
//
// Tolerance: |analytic - numeric| <= 1e-6 + 1e-3 max(|analytic|, |one-sided differences|)
// with h = 1e-6 max(1, |v|) in double: rounding and truncation errors are below 1e-8, real
// backward bugs (a sign, a transpose, a missing factor or term) are wrong by the order of the
// gradient itself. Entries within h of a kink (relu at 0, tied max-pool inputs) have one-sided
// differences that disagree; they are skipped and counted. Tensors above 48 entries are
// sampled, 48 entries each (seeded), which keeps the check cheap on convolutions.
#include <fmt/core.h>

#include <nnprobe/gradient_check.hpp>

#include "mini_run.hpp"
#include "options.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
// Training steps before the check: parameters that start at structured values (biases 0,
// gains 1) would hide a backward that uses them wrongly.
inline constexpr std::size_t gradient_check_warmup = 3;
}  // namespace detail

// T is accepted for symmetry with the other checks; the check always runs in double.
template <class T = float, class P>
verdict gradient_check(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    detail::check_targets_fit_loss<typename P::loss_type>(data);
    const auto sub = detail::probe_subset(data, o);
    pipeline_run<double, P> run(p, sub, o.run_seed);
    verdict v;
    v.check = "gradient_check";
    for (std::size_t k = 0; k < detail::gradient_check_warmup; ++k) v.series.push_back(run.step(k));
    run.forward_train(detail::inputs_of(sub));
    detail::gradcheck::local_options lo;
    lo.random_seed = o.run_seed.value;
    const auto r = detail::gradcheck::check_nodes_alone(run.net(), lo);
    const std::size_t n = detail::gradcheck::first_wrong_node(r);
    v.step = detail::gradient_check_warmup;
    v.threshold = lo.rtol;
    v.measured = r.max_rel_error;
    if (n == detail::npos) {
        v.passed = true;
        v.explanation = fmt::format(
            "gradient_check: every node's parameter and input gradients match central differences in "
            "double ({} entries, max rel error {:.3g}, tolerance 1e-6 + {:.3g} rel; {} entries at a kink "
            "skipped)",
            r.entries_checked, r.max_rel_error, lo.rtol, r.entries_skipped);
        return v;
    }
    const auto& info = run.net().node(n);
    v.node = n;
    std::string tensors;
    std::size_t wrong = 0, checked = 0;
    for (const auto& t : r.tensors)
        if (t.node == n && t.mismatches) {
            tensors += (tensors.empty() ? "" : ", ") + t.tensor.substr(info.label().size() + 1);
            wrong += t.mismatches;
        }
    for (const auto& t : r.tensors)
        if (t.node == n) checked += std::min(t.size, lo.max_entries);
    const gradient_mismatch* first = nullptr;
    for (const auto& m : r.mismatches)
        if (m.tensor.starts_with(info.label() + " ")) {
            first = &m;
            break;
        }
    const bool input_grad = tensors.find("dx") != std::string::npos;
    v.measured = first->rel_error;
    v.hint = input_grad ? "its backward computes the gradient for its input wrongly (dx): compare it "
                          "with the derivative of its forward"
                        : "its backward computes a parameter gradient wrongly: compare it with the "
                          "derivative of its forward";
    v.explanation = fmt::format(
        "gradient_check: {}: wrong gradient for {} ({} of {} entries checked; first {}; tolerance 1e-6 + "
        "{:.3g} rel, in double, on the node's own inputs after {} steps); {}",
        info.label(), tensors, wrong, checked, first->describe(), lo.rtol, detail::gradient_check_warmup,
        v.hint);
    for (const auto& t : r.tensors)
        if (t.node != n && t.mismatches) v.notes.push_back(fmt::format("{} is wrong too", t.tensor));
    return v;
}

}  // namespace nnp

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
#include <nnprobe/gradient_check.hpp>

#include "options.hpp"
#include "pipeline_target.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
// Training steps before the check: parameters that start at structured values (biases 0,
// gains 1) would hide a backward that uses them wrongly.
inline constexpr std::size_t gradient_check_warmup = 3;
// The check on any pipeline, in double (src/gradient_check.cpp).
verdict gradient_check_on(probe_target<double>& target, const probe_options& o);

// The check's own target and run in double. Of the two interfaces it uses only the subset, the
// start of a run, its steps, one training pass, the nodes and the node-by-node check: a
// pipeline_target<double> would compile every other operation of a run in double, per
// pipeline, for nothing (the rest of the suite runs in float). The operations it does not
// use are compiled once, in the library, and throw.
class gradient_check_run : public any_run<double> {
public:
    void refresh_statistics() override;
    std::pair<double, double> evaluate() override;
    const matrix<double>& infer() override;
    const matrix<double>& infer(const std::vector<std::size_t>& samples) override;
    const matrix<double>& forward_again(mode m) override;
    void disable_dropout() override;
    void use_subset_statistics() override;
    double last_accuracy() const override;
    std::uint64_t last_labels_fingerprint() const override;
    void gather_order(std::size_t n, std::vector<std::size_t>& order) const override;
    const matrix<double>& output(std::size_t i) const override;
    const matrix<double>& gradient(std::size_t i) const override;
    matrix<double>& output_grad() override;
    void backward() override;
    void enable_input_gradient(bool on) override;
    const std::vector<param_ref<double>>& params() const override;
    const padding_mask* mask() const override;
};
class gradient_check_target : public probe_target<double> {
public:
    std::size_t subset_size() const override;
    std::size_t steps_per_epoch() const override;
    std::unique_ptr<any_run<double>> start_after(const any_run<double>& earlier, seed s) const override;
    std::vector<std::vector<double>> initial_params(seed s) const override;
    std::string unreproducible_stage(std::size_t k, seed s, std::string& hint) const override;
    void sample_loss(const matrix<double>& row, std::size_t i, matrix<double>& g) const override;
    bool classification() const override;
    double chance_loss() const override;
    double loss_floor() const override;
    double expected_initial_loss() const override;
    std::string expected_loss_text() const override;
    bool impossible_loss(double l) const override;
    const char* loss_name() const override;
    double max_update_ratio() const override;
    std::vector<redundant_tensor> redundant(const std::vector<node_info>& nodes) const override;
    std::vector<unit_kind> unit_kinds() const override;
    std::vector<std::size_t> unit_widths() const override;
    bool token_data() const override;
    verdict sequence_check(any_run<double>& run, int which, const std::vector<std::size_t>& rows,
                           seed s) const override;
};

template <class P>
class gradient_check_run_of final : public gradient_check_run {
public:
    using DS = typename P::dataset_type;
    gradient_check_run_of(const P& p, const DS& sub, seed s) : run_(p, sub, s), sub_(sub) {}

    double step(std::size_t k, std::vector<tensor_update>* stats, function_ref<void()> after_backward) override {
        return run_.step(k, stats, after_backward);
    }
    const matrix<double>& forward_train() override { return run_.forward_train(inputs_of(sub_)); }
    const std::vector<node_info>& nodes() const override { return run_.net().nodes(); }
    gradient_check_result check_nodes_alone(const gradcheck::local_options& lo) override {
        return gradcheck::check_nodes_alone(run_.net(), lo);
    }

private:
    pipeline_run<double, P> run_;
    const DS& sub_;
};

template <class P>
class gradient_check_target_of final : public subset_target<P, gradient_check_target> {
public:
    using subset_target<P, gradient_check_target>::subset_target;

    std::unique_ptr<any_run<double>> start(seed s) const override {
        return std::make_unique<gradient_check_run_of<P>>(this->p_, this->sub_, s);
    }
};
}  // namespace detail

// T is accepted for symmetry with the other checks; the check always runs in double.
template <class T = float, class P>
verdict gradient_check(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    detail::gradient_check_target_of<P> t(p, data, o);
    return detail::gradient_check_on(t, o);
}

}  // namespace nnp

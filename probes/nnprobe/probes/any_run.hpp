#pragma once
// A pipeline behind two interfaces: the checks' bodies are compiled once, in the library
// (src/), for float and double, and drive any pipeline through these. A user's translation
// unit then compiles one implementation per pipeline (pipeline_target.hpp: a pipeline_run and
// a few facts from the pipeline's types), not ten check bodies each instantiating its own
// loops over the pipeline's types.
//   any_run<T>:       one seeded run of the pipeline on the probe subset, and its model;
//   probe_target<T>:  the pipeline and the data it is checked on: the subset, the runs, and
//                     what only its types know (the loss, the optimiser, the graph's layers).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nnprobe/function_ref.hpp>
#include <nnprobe/gradient_check.hpp>
#include <nnprobe/model.hpp>
#include <nnprobe/optimizer.hpp>

#include "redundant.hpp"
#include "verdict.hpp"

namespace nnp::detail {

// How an activation node's units go unusable (unit_health).
enum class unit_kind { other, relu, tanh, sigmoid };

// One run (pipeline_run's operations, on the subset it was started on) and its model.
template <class T>
class any_run {
public:
    virtual ~any_run() = default;

    // pipeline_run::step.
    virtual double step(std::size_t k, std::vector<tensor_update>* stats = nullptr,
                        function_ref<void()> after_backward = {}) = 0;
    // pipeline_run's passes on the subset (or, for infer, on some of its samples).
    virtual void refresh_statistics() = 0;
    virtual std::pair<double, double> evaluate() = 0;
    virtual const matrix<T>& infer() = 0;
    virtual const matrix<T>& infer(const std::vector<std::size_t>& samples) = 0;
    virtual const matrix<T>& forward_train() = 0;
    virtual const matrix<T>& forward_again(mode m) = 0;
    virtual void disable_dropout() = 0;
    virtual void use_subset_statistics() = 0;
    virtual double last_accuracy() const = 0;
    // A fingerprint of the last step's labels (determinism).
    virtual std::uint64_t last_labels_fingerprint() const = 0;
    // Which output row the gather stage gives each sample of the whole subset's batch of `n`.
    virtual void gather_order(std::size_t n, std::vector<std::size_t>& order) const = 0;

    // The model.
    virtual const matrix<T>& output(std::size_t i) const = 0;
    virtual const matrix<T>& gradient(std::size_t i) const = 0;
    virtual matrix<T>& output_grad() = 0;
    virtual void backward() = 0;
    virtual void enable_input_gradient(bool on) = 0;
    virtual const std::vector<param_ref<T>>& params() const = 0;
    virtual const std::vector<node_info>& nodes() const = 0;
    virtual const padding_mask* mask() const = 0;  // a sequence model's, else nullptr
    // Every node checked alone in double on the input of the last forward_train (gradient_check;
    // a run in float checks a copy of its network in double, with its weights).
    virtual gradient_check_result check_nodes_alone(const gradcheck::local_options& lo) = 0;
};

// The pipeline under check and the data it is checked on.
template <class T>
class probe_target {
public:
    virtual ~probe_target() = default;

    // Checks the data against the loss, then draws the probe subset: before anything below.
    virtual void draw_subset() = 0;
    virtual std::size_t subset_size() const = 0;
    virtual std::size_t steps_per_epoch() const = 0;
    // A run of the user's stages on the subset, seeded with `s`.
    virtual std::unique_ptr<any_run<T>> start(seed s) const = 0;
    // A run of the stages as `earlier` (started here) left them, seeded with `s`.
    virtual std::unique_ptr<any_run<T>> start_after(const any_run<T>& earlier, seed s) const = 0;
    // Every parameter tensor's values at initialisation under seed `s`.
    virtual std::vector<std::vector<T>> initial_params(seed s) const = 0;
    // determinism: the batcher or transform that does not repeat at step k (unreproducible_stage).
    virtual std::string unreproducible_stage(std::size_t k, seed s, std::string& hint) const = 0;
    // The loss of sample i alone on output row `row` of the subset's batch, its gradient in `g`.
    virtual void sample_loss(const matrix<T>& row, std::size_t i, matrix<T>& g) const = 0;

    // What the pipeline's types say.
    virtual bool classification() const = 0;
    virtual double chance_loss() const = 0;           // on the subset
    virtual double loss_floor() const = 0;            // on the subset
    virtual double expected_initial_loss() const = 0; // on the subset
    virtual std::string expected_loss_text() const = 0;
    virtual bool impossible_loss(double l) const = 0;
    virtual const char* loss_name() const = 0;
    virtual double max_update_ratio() const = 0;
    virtual std::vector<redundant_tensor> redundant(const std::vector<node_info>& nodes) const = 0;
    virtual std::vector<unit_kind> unit_kinds() const = 0;
    virtual std::vector<std::size_t> unit_widths() const = 0;  // per node: units per position
    // Token data: padding_invariance (which 0) or causality (which 1) on `run`'s model.
    virtual bool token_data() const = 0;
    virtual verdict sequence_check(any_run<T>& run, int which, const std::vector<std::size_t>& rows,
                                   seed s) const = 0;
};

}  // namespace nnp::detail

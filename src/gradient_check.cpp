// The comparisons of the node-local gradient check (include/nnprobe/gradient_check.hpp),
// compiled once here rather than once per node of every model that is checked.
#include <nnprobe/gradient_check.hpp>
#include <nnprobe/probes/pipeline_gradient.hpp>

namespace nnp::detail::gradcheck {

// The comparisons of a node checked alone, once its backward has filled the tensors'
// gradients from the projection `r` at output `y0`: each (sampled) entry against central
// differences of `forward`.
static void compare_node_entries(std::size_t node, std::vector<node_tensor>& tensors,
                          function_ref<const matrix<double>&()> forward,
                          const matrix<double>& r, const matrix<double>& y0, rng& gen, const local_options& lo,
                          gradient_check_result& res) {
    for (auto& t : tensors) {
        gradient_tensor_summary sum{t.name, node, t.size, 0, 0, 0};
        for (std::size_t i : sampled_entries(t.size, lo.max_entries, gen)) {
            const double v = t.value[i], a = t.grad[i];
            const double h = lo.step * std::max(1.0, std::abs(v));
            t.value[i] = v + h;
            const double up = projected_difference(r, forward(), y0) / h;
            t.value[i] = v - h;
            const double down = projected_difference(r, y0, forward()) / h;
            t.value[i] = v;
            const double numeric = (up + down) / 2;
            gradient_mismatch mm{t.name, i, a, numeric, 0, 0};
            if (is_sentinel(a)) {
                mm.kind = mismatch_kind::never_written;
                mm.never_written = true;
            } else if (!std::isfinite(a)) {
                mm.kind = mismatch_kind::not_finite;
            } else if (!std::isfinite(numeric)) {
                mm.kind = mismatch_kind::numeric_not_finite;
            } else {
                const double scale = std::max({std::abs(a), std::abs(up), std::abs(down)});
                const double tol = lo.atol + lo.rtol * scale;
                if (!(std::abs(up - down) <= 2 * tol)) {  // a kink within h: not a derivative
                    ++res.entries_skipped;
                    continue;
                }
                mm.abs_error = std::abs(a - numeric);
                mm.rel_error = scale > 0 ? mm.abs_error / scale : 0.0;
                sum.max_abs_error = std::max(sum.max_abs_error, mm.abs_error);
                sum.max_rel_error = std::max(sum.max_rel_error, mm.rel_error);
                res.max_abs_error = std::max(res.max_abs_error, mm.abs_error);
                res.max_rel_error = std::max(res.max_rel_error, mm.rel_error);
                ++res.entries_checked;
                if (mm.abs_error <= tol) continue;
            }
            if (mm.kind != mismatch_kind::wrong_value) {
                mm.abs_error = mm.rel_error = std::numeric_limits<double>::infinity();
                ++res.entries_checked;
            }
            ++sum.mismatches;
            sum.never_written += mm.never_written;
            res.mismatches.push_back(std::move(mm));
        }
        res.tensors.push_back(std::move(sum));
    }
}

void check_node(std::size_t node, std::size_t rows, std::size_t out_cols, const padding_mask* mask,
                std::size_t sequence_width, std::vector<node_tensor>& tensors,
                function_ref<void(context&, matrix<double>&)> forward,
                function_ref<void(context&, const matrix<double>&, const matrix<double>&)> backward,
                const local_options& lo, gradient_check_result& res) {
    matrix<double> y = matrix<double>({rows, out_cols}, 0.0);
    rng gen = rng(lo.random_seed).fork(node);
    matrix<double> r = random_matrix(rows, out_cols, gen, 1.0, 0.0);
    // A sequence node's padded positions reach no loss (the masked layers after it ignore
    // them): projected out, as the loss does. Else the padding id's embedding row, frozen by
    // design as PyTorch's padding_idx, would show a derivative its backward rightly omits.
    if (sequence_width)
        for (std::size_t b = 0; mask && b < rows; ++b)
            for (std::size_t c = mask->length_of(b) * sequence_width; c < out_cols; ++c) r(b, c) = 0.0;
    const std::uint64_t pass_seed = gen.next_u64();
    auto pass_forward = [&]() -> const matrix<double>& {
        rng pass(pass_seed);  // a stochastic layer draws the same mask every pass
        context ctx{lo.pass_mode, &pass, mask};
        forward(ctx, y);
        return y;
    };
    for (auto& t : tensors) fill(t.grad, t.size, sentinel());
    const matrix<double> y0 = pass_forward();
    {
        rng pass(pass_seed);
        context ctx{lo.pass_mode, &pass, mask};
        backward(ctx, r, y0);
    }
    compare_node_entries(node, tensors, pass_forward, r, y0, gen, lo, res);
}

}  // namespace nnp::detail::gradcheck

namespace nnp::detail {

// The verdict on a pipeline's checked nodes, from the result of check_nodes_alone after the
// warm-up steps whose losses are `series`.
static verdict gradient_check_verdict(const gradient_check_result& r, const std::vector<node_info>& nodes,
                               const gradcheck::local_options& lo, std::vector<double> series) {
    verdict v;
    v.check = "gradient_check";
    v.series = std::move(series);
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
    const auto& info = nodes.at(n);
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

verdict gradient_check_on(probe_target<double>& target, const probe_options& o) {
    target.draw_subset();
    const auto run = target.start(o.run_seed);
    verdict v;
    for (std::size_t k = 0; k < gradient_check_warmup; ++k) v.series.push_back(run->step(k));
    run->forward_train();
    gradcheck::local_options lo;
    lo.random_seed = o.run_seed.value;
    const auto r = run->check_nodes_alone(lo);
    return gradient_check_verdict(r, run->nodes(), lo, std::move(v.series));
}

}  // namespace nnp::detail

namespace nnp::detail {

// What gradient_check's own run and target leave out (pipeline_gradient.hpp): never called.
[[noreturn]] static void not_in_gradient_check(const char* operation) {
    throw error(fmt::format("nnprobe: internal error: gradient_check's run in double has no {}", operation));
}

void gradient_check_run::refresh_statistics() { not_in_gradient_check("refresh_statistics"); }
std::pair<double, double> gradient_check_run::evaluate() { not_in_gradient_check("evaluate"); }
const matrix<double>& gradient_check_run::infer() { not_in_gradient_check("infer"); }
const matrix<double>& gradient_check_run::infer(const std::vector<std::size_t>&) { not_in_gradient_check("infer"); }
const matrix<double>& gradient_check_run::forward_again(mode) { not_in_gradient_check("forward_again"); }
void gradient_check_run::disable_dropout() { not_in_gradient_check("disable_dropout"); }
void gradient_check_run::use_subset_statistics() { not_in_gradient_check("use_subset_statistics"); }
double gradient_check_run::last_accuracy() const { not_in_gradient_check("last_accuracy"); }
std::uint64_t gradient_check_run::last_labels_fingerprint() const { not_in_gradient_check("last_labels_fingerprint"); }
void gradient_check_run::gather_order(std::size_t, std::vector<std::size_t>&) const {
    not_in_gradient_check("gather_order");
}
const matrix<double>& gradient_check_run::output(std::size_t) const { not_in_gradient_check("output"); }
const matrix<double>& gradient_check_run::gradient(std::size_t) const { not_in_gradient_check("gradient"); }
matrix<double>& gradient_check_run::output_grad() { not_in_gradient_check("output_grad"); }
void gradient_check_run::backward() { not_in_gradient_check("backward"); }
void gradient_check_run::enable_input_gradient(bool) { not_in_gradient_check("enable_input_gradient"); }
const std::vector<param_ref<double>>& gradient_check_run::params() const { not_in_gradient_check("params"); }
const padding_mask* gradient_check_run::mask() const { not_in_gradient_check("mask"); }

std::size_t gradient_check_target::subset_size() const { not_in_gradient_check("subset_size"); }
std::size_t gradient_check_target::steps_per_epoch() const { not_in_gradient_check("steps_per_epoch"); }
std::unique_ptr<any_run<double>> gradient_check_target::start_after(const any_run<double>&, seed) const {
    not_in_gradient_check("start_after");
}
std::vector<std::vector<double>> gradient_check_target::initial_params(seed) const {
    not_in_gradient_check("initial_params");
}
std::string gradient_check_target::unreproducible_stage(std::size_t, seed, std::string&) const {
    not_in_gradient_check("unreproducible_stage");
}
void gradient_check_target::sample_loss(const matrix<double>&, std::size_t, matrix<double>&) const {
    not_in_gradient_check("sample_loss");
}
bool gradient_check_target::classification() const { not_in_gradient_check("classification"); }
double gradient_check_target::chance_loss() const { not_in_gradient_check("chance_loss"); }
double gradient_check_target::loss_floor() const { not_in_gradient_check("loss_floor"); }
double gradient_check_target::expected_initial_loss() const { not_in_gradient_check("expected_initial_loss"); }
std::string gradient_check_target::expected_loss_text() const { not_in_gradient_check("expected_loss_text"); }
bool gradient_check_target::impossible_loss(double) const { not_in_gradient_check("impossible_loss"); }
const char* gradient_check_target::loss_name() const { not_in_gradient_check("loss_name"); }
double gradient_check_target::max_update_ratio() const { not_in_gradient_check("max_update_ratio"); }
std::vector<redundant_tensor> gradient_check_target::redundant(const std::vector<node_info>&) const {
    not_in_gradient_check("redundant");
}
std::vector<unit_kind> gradient_check_target::unit_kinds() const { not_in_gradient_check("unit_kinds"); }
std::vector<std::size_t> gradient_check_target::unit_widths() const { not_in_gradient_check("unit_widths"); }
bool gradient_check_target::token_data() const { not_in_gradient_check("token_data"); }
verdict gradient_check_target::sequence_check(any_run<double>&, int, const std::vector<std::size_t>&, seed) const {
    not_in_gradient_check("sequence_check");
}

}  // namespace nnp::detail

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

template <class T>
verdict gradient_check_on(probe_target<T>& target, const probe_options& o) {
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
template verdict gradient_check_on(probe_target<float>&, const probe_options&);
template verdict gradient_check_on(probe_target<double>&, const probe_options&);

}  // namespace nnp::detail

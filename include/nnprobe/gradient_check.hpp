#pragma once
// Numerical gradient checking in double precision, in the manner of dlib's test_layer.
//
//   auto r = nnp::check_layer_gradient<nnp::dense_t<5>, nnp::shape<3>>(nnp::dense<5>);
//   if (!r.ok) std::puts(r.explain().c_str());
//
//   auto m = nnp::make_model<double>(net, nnp::seed{3});
//   auto r2 = nnp::check_model_gradient(m, x);
//
// The scalar checked is L = sum(r ⊙ y) for a fixed random projection r of the output y, so
// dL/dy = r and one backward pass gives the analytic gradient of every input entry and every
// parameter entry. Each entry is then compared with a central difference
//   (L(v + h) - L(v - h)) / ((v + h) - (v - h)),   h = step * max(1, |v|),
// where the difference L(v+h) - L(v-h) is summed as sum(r ⊙ (y+ - y-)), so output entries the
// perturbation does not touch cancel exactly instead of adding rounding noise.
//
// Beyond the values, the check enforces the backward contract (layer.hpp): backward ASSIGNS
// dx and every parameter gradient. The buffers are pre-filled with a NaN carrying a recognisable
// payload, so an entry backward never writes is reported as "never written"; a second pass
// pre-filled with a finite marker tells "never written" from "added to the buffer instead of
// assigning it"; a third pass with dx == nullptr (what the model passes for the first layer
// when the input gradient is off) must give the same parameter gradients.
//
// Tolerances. An entry passes when |a - n| <= atol + rtol * max(|a|, |n|). With h = 1e-6 in
// double, the central difference has truncation error ~ h^2 |f'''| / 6 ~ 1e-13 and rounding
// error ~ eps |y| / h ~ 1e-10 for O(1) activations; atol = 1e-6 and rtol = 1e-5 sit three to
// four orders of magnitude above that noise, yet every real backward bug (sign, transpose,
// missing factor, wrong index) produces an error of the order of the gradient itself, far
// above them. Tighten them for smooth layers, loosen them near kinks or for very large
// activations.
//
// Side effects on a model: check_model_gradient enables the input gradient, runs many forward
// passes (batch-norm running statistics move in train mode), restores every parameter bit for
// bit, and ends with a forward pass on the caller's x so that output(i) and gradient(i) refer to
// live data. A model's dropout draws a new mask every pass, so a model with dropout cannot be
// checked in train mode: the check detects the unrepeatable forward pass, names the node whose
// output differs, and compares nothing.
#include <array>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/core.h>

#include "function_ref.hpp"
#include "graph.hpp"
#include "layer.hpp"
#include "model.hpp"
#include "random.hpp"
#include "sequence.hpp"
#include "tensor.hpp"

namespace nnp {

struct gradient_check_options {
    std::size_t batch = 4;              // rows of the random input batch (layer check)
    mode pass_mode = mode::train;       // train: dropout masks, batch statistics; eval: neither
    std::uint64_t random_seed = 7;      // parameters, inputs, projection r and dropout masks
    double step = 1e-6;                 // h = step * max(1, |v|)
    double atol = 1e-6;                 // see the header comment for why these defaults
    double rtol = 1e-5;
    init_spec init = init::normal(0.5);  // what the layer's init() gets (layer check)
    double param_noise = 0.5;           // then add N(0, param_noise^2) to every parameter, so
                                        // gains are not 1 and biases not 0 (layer check)
    double input_scale = 1.0;           // input entries ~ N(0, input_scale^2) (layer check)
    double min_abs_input = 1e-2;        // redraw input entries closer to 0 (relu's kink)
    bool warm_up_in_eval = true;        // eval mode: one train pass on another batch first,
                                        // so running statistics are not the 0/1 defaults
    bool check_inputs = true;
    bool check_params = true;
    // Sequences: each sample's real length; the batch is padded to the longest, or to
    // `sequence_length` when that is longer. Empty: every sample real over the node's
    // maximum length (layer check), or the whole input (model check).
    std::vector<std::size_t> lengths = {};
    std::size_t sequence_length = 0;
};

// What is wrong with an entry.
enum class mismatch_kind : std::uint8_t {
    wrong_value,         // |analytic - numeric| beyond tolerance
    never_written,       // backward left the entry untouched
    accumulated,         // backward added to the buffer instead of assigning it
    not_finite,          // backward wrote NaN or infinity
    numeric_not_finite,  // the forward pass gave NaN or infinity under perturbation
    differs_without_dx,  // this parameter gradient changes when backward gets dx == nullptr
};

// One entry whose analytic gradient is wrong.
struct gradient_mismatch {
    std::string tensor;  // "dense<5> weight", "dense<5> dx", "node 1 dense<8> bias", "node 0 input"
    std::size_t index;   // flat (row-major) index in the tensor
    double analytic;
    double numeric;      // for differs_without_dx: the value backward gave with dx == nullptr
    double abs_error;
    double rel_error;
    bool never_written = false;
    mismatch_kind kind = mismatch_kind::wrong_value;

    std::string describe() const {
        std::string s = fmt::format("{}[{}]: analytic {:.6g} numeric {:.6g}", tensor, index,
                                    analytic, numeric);
        switch (kind) {
            case mismatch_kind::wrong_value:
                s += fmt::format(" (abs error {:.3g}, rel error {:.3g})", abs_error, rel_error);
                break;
            case mismatch_kind::never_written: s += " (never written)"; break;
            case mismatch_kind::accumulated: s += " (added to the gradient buffer instead of assigning it)"; break;
            case mismatch_kind::not_finite: s += " (backward wrote a non-finite value)"; break;
            case mismatch_kind::numeric_not_finite: s += " (forward is not finite around this point)"; break;
            case mismatch_kind::differs_without_dx:
                s = fmt::format("{}[{}]: {:.6g} with dx, {:.6g} with dx == nullptr{}", tensor,
                                index, analytic, numeric,
                                never_written ? " (never written when dx == nullptr)" : "");
                break;
        }
        return s;
    }
};

// What was checked in one tensor, and how well.
struct gradient_tensor_summary {
    std::string tensor;
    std::size_t node = static_cast<std::size_t>(-1);  // model check: the owning node
    std::size_t size = 0;
    std::size_t mismatches = 0;
    std::size_t never_written = 0;  // of the mismatches
    double max_abs_error = 0;       // over entries where both gradients are finite
    double max_rel_error = 0;
};

struct gradient_check_result {
    bool ok = true;
    std::vector<gradient_mismatch> mismatches;
    std::vector<gradient_tensor_summary> tensors;
    std::vector<std::string> problems;  // whole-check failures (unrepeatable forward, ...)
    std::vector<std::string> notes;     // hints, e.g. which node of a model to look at
    std::size_t entries_checked = 0;
    double max_abs_error = 0;  // over entries where both gradients are finite
    double max_rel_error = 0;
    std::size_t entries_skipped = 0;  // node-local check: entries at a kink, not judged

    // Does any mismatch or summary name this tensor (substring match)?
    bool mentions(std::string_view tensor) const {
        for (const auto& m : mismatches)
            if (m.tensor.find(tensor) != std::string::npos) return true;
        return false;
    }

    // A readable multi-line report: the verdict, whole-check problems, the first
    // `max_mismatches` wrong entries, and one line per tensor that has any.
    std::string explain(std::size_t max_mismatches = 8) const {
        std::string s;
        if (ok) {
            s = fmt::format("gradient check passed: {} entries in {} tensor(s), max abs error "
                            "{:.3g}, max rel error {:.3g}\n",
                            entries_checked, tensors.size(), max_abs_error, max_rel_error);
            return s;
        }
        std::size_t unwritten = 0;
        for (const auto& m : mismatches) unwritten += m.never_written;
        s = entries_checked == 0
                ? std::string("gradient check FAILED before comparing any gradient\n")
                : fmt::format("gradient check FAILED: {} mismatch(es) in {} entries checked{} (max "
                              "abs error {:.3g}, max rel error {:.3g}, where both gradients are "
                              "finite)\n",
                              mismatches.size(), entries_checked,
                              unwritten ? fmt::format(", {} never written", unwritten) : "",
                              max_abs_error, max_rel_error);
        for (const auto& p : problems) s += "  problem: " + p + "\n";
        const std::size_t shown = std::min(max_mismatches, mismatches.size());
        for (std::size_t k = 0; k < shown; ++k) s += "  " + mismatches[k].describe() + "\n";
        if (shown < mismatches.size())
            s += fmt::format("  ... and {} more\n", mismatches.size() - shown);
        bool header = false;
        for (const auto& t : tensors) {
            if (!t.mismatches) continue;
            if (!header) s += "tensors with wrong entries:\n";
            header = true;
            s += fmt::format("  {}: {} of {} wrong{}, max abs error {:.3g}\n", t.tensor,
                             t.mismatches, t.size,
                             t.never_written ? fmt::format(" ({} never written)", t.never_written)
                                             : "",
                             t.max_abs_error);
        }
        for (const auto& n : notes) s += n + "\n";
        return s;
    }
};

namespace detail::gradcheck {

// A quiet NaN with a payload nothing computes by accident: "backward never wrote here".
inline constexpr std::uint64_t sentinel_bits = 0x7ff8'0000'dead'beefULL;
inline double sentinel() { return std::bit_cast<double>(sentinel_bits); }
inline bool is_sentinel(double v) { return std::bit_cast<std::uint64_t>(v) == sentinel_bits; }
// A finite marker for the second pass: an entry still equal to it was never written.
inline constexpr double marker = 1234.5678;  // small enough that adding a gradient changes it

// One tensor under check: its values (perturbed in place) and what backward gave for it.
struct probe {
    std::string name;
    std::size_t node = static_cast<std::size_t>(-1);
    double* value = nullptr;
    double* grad = nullptr;  // the buffer backward writes into
    std::size_t size = 0;
    bool is_param = true;
    std::vector<double> first, second, without_dx;  // sentinel, marker, dx == nullptr passes
};

inline void fill(double* p, std::size_t n, double v) { std::fill(p, p + n, v); }

inline matrix<double> random_matrix(std::size_t rows, std::size_t cols, rng& r, double scale,
                                    double min_abs) {
    matrix<double> m = matrix<double>({rows, cols}, 0.0);
    for (auto& v : m) {
        do v = scale * r.normal();
        while (std::abs(v) < min_abs);
    }
    return m;
}

inline bool all_finite(const matrix<double>& m) {
    return std::all_of(m.begin(), m.end(), [](double v) { return std::isfinite(v); });
}
inline bool same_bits(const matrix<double>& a, const matrix<double>& b) {
    return a.shape() == b.shape() &&
           std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// sum(r ⊙ (yp - ym)), pairing the differences first so untouched entries cancel exactly.
inline double projected_difference(const matrix<double>& r, const matrix<double>& yp,
                                   const matrix<double>& ym) {
    double s = 0;
    const double *pr = r.data(), *pp = yp.data(), *pm = ym.data();
    for (std::size_t i = 0; i < r.size(); ++i) {
        const double d = pp[i] - pm[i];
        if (d != 0) s += pr[i] * d;
    }
    return s;
}

// Central differences on every entry of every probe, against the analytic passes.
// `forward` runs one forward pass and returns the output (copied by the caller's lambda or
// a reference that stays valid until the next call).
template <class Forward>
void compare(std::vector<probe>& probes, Forward&& forward, const matrix<double>& r,
             const gradient_check_options& opts, gradient_check_result& res) {
    for (auto& p : probes) {
        gradient_tensor_summary sum{p.name, p.node, p.size, 0, 0, 0};
        for (std::size_t i = 0; i < p.size; ++i) {
            const double v = p.value[i];
            const double h = opts.step * std::max(1.0, std::abs(v));
            const double vp = v + h, vm = v - h;
            p.value[i] = vp;
            const matrix<double> yp = forward();
            p.value[i] = vm;
            const matrix<double> ym = forward();
            p.value[i] = v;  // restored bit for bit
            const double numeric = projected_difference(r, yp, ym) / (vp - vm);
            const double a = p.first[i];

            gradient_mismatch mm{p.name, i, a, numeric, 0, 0};
            bool bad = false;
            if (is_sentinel(a)) {
                bad = true;
                if (p.second[i] == marker) {
                    mm.kind = mismatch_kind::never_written;
                    mm.never_written = true;
                } else {
                    mm.kind = mismatch_kind::accumulated;
                }
                mm.abs_error = mm.rel_error = std::numeric_limits<double>::infinity();
            } else if (!std::isfinite(a)) {
                bad = true;
                mm.kind = mismatch_kind::not_finite;
                mm.abs_error = mm.rel_error = std::numeric_limits<double>::infinity();
            } else if (!std::isfinite(numeric)) {
                bad = true;
                mm.kind = mismatch_kind::numeric_not_finite;
                mm.abs_error = mm.rel_error = std::numeric_limits<double>::infinity();
            } else {
                const double scale = std::max(std::abs(a), std::abs(numeric));
                mm.abs_error = std::abs(a - numeric);
                mm.rel_error = scale > 0 ? mm.abs_error / scale : 0.0;
                bad = !(mm.abs_error <= opts.atol + opts.rtol * scale);
                res.max_abs_error = std::max(res.max_abs_error, mm.abs_error);
                res.max_rel_error = std::max(res.max_rel_error, mm.rel_error);
                sum.max_abs_error = std::max(sum.max_abs_error, mm.abs_error);
                sum.max_rel_error = std::max(sum.max_rel_error, mm.rel_error);
                if (!bad && p.second[i] != a &&
                    !(std::abs(p.second[i] - a) <= opts.atol + opts.rtol * std::abs(a))) {
                    // Right from a NaN-filled buffer, different from a marker-filled one: the
                    // buffer's old contents leak in.
                    bad = true;
                    mm.kind = mismatch_kind::accumulated;
                }
            }
            ++res.entries_checked;
            if (bad) {
                ++sum.mismatches;
                sum.never_written += mm.never_written;
                res.mismatches.push_back(std::move(mm));
            }

            // Parameter gradients must not depend on whether dx was asked for.
            if (p.is_param && !p.without_dx.empty() && !is_sentinel(a) && std::isfinite(a)) {
                const double w = p.without_dx[i];
                const bool unwritten = is_sentinel(w);
                if (unwritten || !(std::abs(w - a) <= opts.atol + opts.rtol * std::abs(a))) {
                    gradient_mismatch d{p.name, i, a, w,
                                        unwritten ? std::numeric_limits<double>::infinity()
                                                  : std::abs(w - a),
                                        0};
                    d.kind = mismatch_kind::differs_without_dx;
                    d.never_written = unwritten;
                    ++sum.mismatches;
                    sum.never_written += unwritten;
                    res.mismatches.push_back(std::move(d));
                }
            }
        }
        res.tensors.push_back(std::move(sum));
    }
    if (!res.mismatches.empty() || !res.problems.empty()) res.ok = false;
}

}  // namespace detail::gradcheck

// Check one layer's backward against central differences of its forward, at double.
// Layer: the spec type (dense_t<5>, relu_t, ...); InShape: the per-sample input shape.
// Merge layers (add_t, concat_t, anything with is_merge) get two inputs, of InShape and
// OtherShape; their output width is the sum for concat_t and InShape's for the others.
template <class Layer, class InShape, class OtherShape = InShape>
gradient_check_result check_layer_gradient(const Layer& spec, gradient_check_options opts = {}) {
    namespace gc = detail::gradcheck;
    static_assert(detail::layer_accepts<Layer, InShape>(),
                  "nnprobe: check_layer_gradient: this layer does not accept InShape");
    using impl_t = typename Layer::template impl<double, InShape>;
    constexpr bool merge = detail::is_merge<Layer>();
    using OutShape = typename Layer::template output_shape<InShape>;
    // Sequences: the batch's rows and length come from the mask.
    padding_mask mask;
    const padding_mask* seq_mask = nullptr;
    if constexpr (detail::is_sequence<InShape>) {
        if (opts.lengths.empty())
            mask = padding_mask::full(opts.batch, InShape::max_length);
        else
            mask = padding_mask(opts.lengths,
                                std::max(opts.sequence_length,
                                         *std::max_element(opts.lengths.begin(), opts.lengths.end())));
        seq_mask = &mask;
    }
    auto cols_of = [&]<class S>() -> std::size_t {
        if constexpr (detail::is_sequence<S>) return mask.length() * S::width;
        else return S::size;
    };
    const std::size_t in_cols = cols_of.template operator()<InShape>();
    const std::size_t other_cols = cols_of.template operator()<OtherShape>();
    const std::size_t out_cols = [&] {
        if constexpr (std::is_same_v<Layer, concat_t>) return in_cols + other_cols;
        else return cols_of.template operator()<OutShape>();
    }();
    const std::size_t rows = seq_mask ? mask.rows() : opts.batch;
    const std::string layer_name = detail::describe_layer(spec);

    gradient_check_result res;
    rng gen(opts.random_seed);
    impl_t impl{};

    // Initialise, then move every parameter off its structured start (gain 1, bias 0).
    if constexpr (requires(rng& g) { impl.init(spec, opts.init, g); }) {
        rng init_rng = gen.fork(1);
        impl.init(spec, opts.init, init_rng);
    }
    constexpr bool has_params = requires { impl.for_each_param([](auto&&...) {}); };
    std::vector<gc::probe> params;
    if constexpr (has_params) {
        rng noise = gen.fork(2);
        impl.for_each_param([&](std::string_view name, auto& value, auto& grad) {
            for (auto& v : value) v += opts.param_noise * noise.normal();
            params.push_back(gc::probe{layer_name + " " + std::string(name), detail::npos,
                                       value.data(), grad.data(), value.size(), true, {}, {}, {}});
        });
    }

    rng data = gen.fork(3);
    matrix<double> x0 = gc::random_matrix(rows, in_cols, data, opts.input_scale, opts.min_abs_input);
    matrix<double> x1 = merge ? gc::random_matrix(rows, other_cols, data, opts.input_scale,
                                                   opts.min_abs_input)
                              : matrix<double>();
    const matrix<double> r = gc::random_matrix(rows, out_cols, data, 1.0, 0.0);
    matrix<double> dx0 = matrix<double>({rows, in_cols}, 0.0);
    matrix<double> dx1 = matrix<double>({merge ? rows : 0, merge ? other_cols : 0}, 0.0);
    matrix<double> y = matrix<double>({rows, out_cols}, 0.0);

    const std::uint64_t pass_seed = gen.fork(4).next_u64();
    // Every forward pass gets a fresh generator of the same seed: dropout masks repeat.
    auto run_forward = [&](mode m, const matrix<double>& a, const matrix<double>& b) {
        rng pass(pass_seed);
        context ctx{m, &pass, seq_mask};
        gc::fill(y.data(), y.size(), gc::sentinel());
        if constexpr (merge) {
            const std::array<const matrix<double>*, 2> xs{&a, &b};
            impl.forward(std::span<const matrix<double>* const>(xs), y, ctx);
        } else {
            (void)b;
            impl.forward(a, y, ctx);
        }
    };
    auto forward = [&]() -> const matrix<double>& {
        run_forward(opts.pass_mode, x0, x1);
        return y;
    };
    auto backward = [&](bool with_dx) {
        rng pass(pass_seed);
        context ctx{opts.pass_mode, &pass, seq_mask};
        if constexpr (merge) {
            const std::array<matrix<double>*, 2> dxs{with_dx ? &dx0 : nullptr,
                                                     with_dx ? &dx1 : nullptr};
            impl.backward(r, std::span<matrix<double>* const>(dxs), ctx);
        } else {
            impl.backward(x0, y, r, with_dx ? &dx0 : nullptr, ctx);
        }
    };

    if (opts.pass_mode == mode::eval && opts.warm_up_in_eval) {
        rng warm = gen.fork(5);
        const matrix<double> a = gc::random_matrix(rows, in_cols, warm, opts.input_scale, 0.0);
        const matrix<double> b = merge ? gc::random_matrix(rows, other_cols, warm,
                                                           opts.input_scale, 0.0)
                                       : matrix<double>();
        run_forward(mode::train, a, b);
    }

    std::vector<gc::probe> probes;
    if (opts.check_inputs) {
        probes.push_back(gc::probe{layer_name + (merge ? " dx0" : " dx"), detail::npos,
                                   x0.data(), dx0.data(), x0.size(), false, {}, {}, {}});
        if constexpr (merge)
            probes.push_back(gc::probe{layer_name + " dx1", detail::npos, x1.data(),
                                       dx1.data(), x1.size(), false, {}, {}, {}});
    }
    if (opts.check_params)
        for (auto& p : params) probes.push_back(std::move(p));

    // The forward pass must write every output and repeat exactly.
    const matrix<double> y_first = forward();
    if (!gc::all_finite(y_first))
        res.problems.push_back(fmt::format(
            "{}: forward left output entries unwritten or not finite", layer_name));
    if (!gc::same_bits(forward(), y_first))
        res.problems.push_back(fmt::format(
            "{}: two forward passes on the same input differ: numeric gradients are meaningless",
            layer_name));

    // Analytic passes: NaN-filled, marker-filled, and (for parameters) without dx.
    auto analytic_pass = [&](double prefill, bool with_dx, std::vector<double> gc::probe::*slot) {
        for (auto& p : probes)
            if (with_dx || p.is_param) gc::fill(p.grad, p.size, prefill);
        forward();
        backward(with_dx);
        for (auto& p : probes)
            if (with_dx || p.is_param) (p.*slot).assign(p.grad, p.grad + p.size);
    };
    analytic_pass(gc::sentinel(), true, &gc::probe::first);
    analytic_pass(gc::marker, true, &gc::probe::second);
    if constexpr (!merge)
        if (opts.check_params && has_params)
            analytic_pass(gc::sentinel(), false, &gc::probe::without_dx);

    gc::compare(probes, forward, r, opts, res);
    return res;
}

namespace detail::gradcheck {

// Every node of a model checked alone, on the inputs it received in the model's last forward
// pass: a copy of the node's runtime part runs forward and backward under a random projection
// r of its output, and every parameter gradient and every input gradient it gives is compared
// with a central difference of its own forward. A node's gradients depend on nothing but its
// own code and inputs, so a wrong entry names the node whose backward is wrong (a whole-model
// check sees a wrong input gradient only in the nodes upstream of it).
//
// Non-differentiable points: the two one-sided differences (f(v+h) - f(v)) / h and
// (f(v) - f(v-h)) / h are computed from the same three forwards; where they disagree beyond
// twice the tolerance a kink lies within h of the point (relu at 0, tied max-pool inputs), the
// central difference is not a derivative, and the entry is skipped (counted, not judged).
// Where they agree, the central difference is within the tolerance of either side, so a kink
// the test lets through cannot produce an error above the tolerance. Smooth curvature makes
// them differ by h |f''| (1e-6 |f''| at the default step), far below it.
struct local_options {
    std::size_t max_entries = 48;  // per tensor; larger tensors are sampled (seeded)
    double step = 1e-6;
    double atol = 1e-6;
    double rtol = 1e-3;            // real backward bugs are wrong by O(1) of the gradient
    mode pass_mode = mode::train;
    std::uint64_t random_seed = 7;
};

inline std::vector<std::size_t> sampled_entries(std::size_t size, std::size_t most, rng& r) {
    std::vector<std::size_t> idx;
    if (size <= most) {
        for (std::size_t i = 0; i < size; ++i) idx.push_back(i);
        return idx;
    }
    for (std::size_t k = 0; k < most; ++k) {  // one entry in each of `most` equal strides
        const std::size_t lo = k * size / most, hi = (k + 1) * size / most;
        idx.push_back(lo + static_cast<std::size_t>(r.next_u64() % (hi - lo)));
    }
    return idx;
}

// A tensor of a node checked alone: its values (perturbed in place) and its gradient.
struct node_tensor {
    std::string name;
    double* value;
    double* grad;
    std::size_t size;
};
// A node checked alone, given its runtime part as two calls: `forward(ctx, y)` writes the
// node's output for its kept inputs into y, `backward(ctx, r, y0)` writes the gradients of
// `tensors` (its inputs' and parameters') for the projection r at output y0. The projection,
// the passes and the comparisons are the same for every node, so they are compiled once, in
// the library (src/gradient_check.cpp), not once per node of every model checked.
// `rows` x `out_cols`: the node's output; `sequence_width`: units per position of a sequence
// node's output (0 for a flat node), whose padded positions (per `mask`) are projected out.
void check_node(std::size_t node, std::size_t rows, std::size_t out_cols, const padding_mask* mask,
                std::size_t sequence_width, std::vector<node_tensor>& tensors,
                function_ref<void(context&, matrix<double>&)> forward,
                function_ref<void(context&, const matrix<double>&, const matrix<double>&)> backward,
                const local_options& lo, gradient_check_result& res);

template <std::size_t I, class G>
void check_node_alone(model<double, G>& m, const local_options& lo, gradient_check_result& res) {
    using N = node_at<G, I>;
    using L = typename N::layer_type;
    constexpr bool merge = is_merge<L>();
    constexpr std::size_t inputs = merge ? N::input_count : 1;
    auto impl = m.template layer<I>();  // a copy: the model is left as it was
    const std::string label = m.node(I).label();
    // A sequence model's nodes see the mask of its last forward pass; its token ids (node 0)
    // are not differentiable, so a node reading them has no input gradient to check.
    const padding_mask* mask = nullptr;
    if constexpr (model<double, G>::sequential) mask = &m.mask();
    constexpr bool ids_input = model<double, G>::sequential && !merge && N::inputs[0] == 0;

    std::array<matrix<double>, inputs> xs, dxs;
    for (std::size_t k = 0; k < inputs; ++k) {
        xs[k] = m.output(N::inputs[k]);
        dxs[k] = matrix<double>(xs[k].shape(), 0.0);
    }
    std::vector<node_tensor> tensors;
    if constexpr (!ids_input)
        for (std::size_t k = 0; k < inputs; ++k)
            tensors.push_back({label + (merge ? fmt::format(" dx{}", k) : std::string(" dx")), xs[k].data(),
                               dxs[k].data(), xs[k].size()});
    if constexpr (requires { impl.for_each_param([](auto&&...) {}); })
        impl.for_each_param([&](std::string_view name, auto& value, auto& grad) {
            tensors.push_back({label + " " + std::string(name), value.data(), grad.data(), value.size()});
        });
    auto forward = [&](context& ctx, matrix<double>& y) {
        if constexpr (merge) {
            std::array<const matrix<double>*, inputs> p;
            for (std::size_t k = 0; k < inputs; ++k) p[k] = &xs[k];
            impl.forward(std::span<const matrix<double>* const>(p), y, ctx);
        } else {
            impl.forward(xs[0], y, ctx);
        }
    };
    auto backward = [&](context& ctx, const matrix<double>& r, const matrix<double>& y0) {
        if constexpr (merge) {
            std::array<matrix<double>*, inputs> p;
            for (std::size_t k = 0; k < inputs; ++k) p[k] = &dxs[k];
            impl.backward(r, std::span<matrix<double>* const>(p), ctx);
        } else {
            impl.backward(xs[0], y0, r, &dxs[0], ctx);
        }
    };
    std::size_t sequence_width = 0;
    if constexpr (is_sequence<shape_at<G, I>>) sequence_width = shape_at<G, I>::width;
    // The output's width: a sequence node's holds the batch's length.
    check_node(I, m.rows(), m.output(I).shape()[1], mask, sequence_width, tensors, forward, backward, lo, res);
}

// Every node of `m` checked alone on the inputs of its last forward pass (run one first).
template <class G>
gradient_check_result check_nodes_alone(model<double, G>& m, const local_options& lo = {}) {
    gradient_check_result res;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        (check_node_alone<K + 1>(m, lo, res), ...);
    }(std::make_index_sequence<G::size - 1>{});
    res.ok = res.mismatches.empty();
    return res;
}

// The first node (in order) with a wrong entry, or npos.
inline std::size_t first_wrong_node(const gradient_check_result& r) {
    std::size_t node = npos;
    for (const auto& t : r.tensors)
        if (t.mismatches && (node == npos || t.node < node)) node = t.node;
    return node;
}

}  // namespace detail::gradcheck

// Check a whole model at double: L = sum(r ⊙ output) for a random r, every parameter of every
// node and the input (the input gradient is enabled). Tensors are named by node label:
// "node 1 dense<8> weight", "node 0 input". See the header comment for side effects.
template <class G>
gradient_check_result check_model_gradient(model<double, G>& m, const matrix<double>& x,
                                           gradient_check_options opts = {}) {
    namespace gc = detail::gradcheck;
    gradient_check_result res;
    rng gen(opts.random_seed);
    rng data = gen.fork(3);
    matrix<double> xc = x;  // perturbed in place
    const std::size_t rows = xc.shape()[0];
    padding_mask mask;
    if constexpr (model<double, G>::sequential)
        if (!opts.lengths.empty()) mask = padding_mask(opts.lengths, xc.shape()[1]);
    // The output's width for this batch (a sequence output holds the batch's length).
    const std::size_t out_cols = [&] {
        if constexpr (model<double, G>::sequential) {
            m.forward(x, opts.pass_mode);
            return m.output().shape()[1];
        }
        return model<double, G>::output_size;
    }();
    const matrix<double> r = gc::random_matrix(rows, out_cols, data, 1.0, 0.0);

    m.enable_input_gradient(true);
    auto forward = [&]() -> const matrix<double>& {
        if constexpr (model<double, G>::sequential)
            if (!opts.lengths.empty()) return m.forward(xc, mask, opts.pass_mode);
        return m.forward(xc, opts.pass_mode);
    };
    auto backward = [&] {
        forward();
        m.output_grad() = r;
        m.backward();
    };
    backward();  // sizes every gradient buffer, the input's included
    auto forward_caller = [&] {
        if constexpr (model<double, G>::sequential)
            if (!opts.lengths.empty()) return (void)m.forward(x, mask, opts.pass_mode);
        m.forward(x, opts.pass_mode);
    };

    std::vector<gc::probe> probes;
    if (opts.check_inputs) {
        // The model owns the buffer; m is not const, so writing the NaN prefill is sound.
        auto& dx = const_cast<matrix<double>&>(m.gradient(0));
        probes.push_back(gc::probe{m.node(0).label(), 0, xc.data(), dx.data(), xc.size(), false,
                                   {}, {}, {}});
    }
    if (opts.check_params)
        for (const auto& p : m.params())
            probes.push_back(gc::probe{m.node(p.node).label() + " " + p.name, p.node, p.value,
                                       p.grad, p.size, true, {}, {}, {}});

    const matrix<double> y_first = forward();
    if (!gc::all_finite(y_first))
        res.problems.push_back("the model's output is not finite");
    std::vector<matrix<double>> outputs_first;
    for (std::size_t i = 1; i < model<double, G>::node_count; ++i) outputs_first.push_back(m.output(i));
    if (!gc::same_bits(forward(), y_first)) {
        // Central differences of an unrepeatable forward pass are noise, and so would be every
        // mismatch found with them: compare nothing, blame no backward, name the node instead
        // (the first whose output differs; nodes come in order, so its inputs did not).
        res.ok = false;
        res.problems.push_back(
            "two forward passes on the same input differ (dropout in train mode draws a new mask "
            "every pass): check in eval mode");
        std::size_t node = detail::npos;
        for (std::size_t i = 1; i < model<double, G>::node_count && node == detail::npos; ++i)
            if (!gc::same_bits(m.output(i), outputs_first[i - 1])) node = i;
        res.notes.push_back(fmt::format(
            "{} gives a different output on every pass: a stochastic layer in training mode. "
            "No gradient was compared, so no layer's backward is at fault; check with "
            "pass_mode = mode::eval, or with the dropout rate set to 0",
            node == detail::npos ? std::string("a node") : m.node(node).label()));
        forward_caller();
        m.output_grad() = r;
        m.backward();
        return res;
    }

    auto analytic_pass = [&](double prefill, std::vector<double> gc::probe::*slot) {
        for (auto& p : probes) gc::fill(p.grad, p.size, prefill);
        backward();
        for (auto& p : probes) (p.*slot).assign(p.grad, p.grad + p.size);
    };
    analytic_pass(gc::sentinel(), &gc::probe::first);
    analytic_pass(gc::marker, &gc::probe::second);

    gc::compare(probes, forward, r, opts, res);

    // Where to look: each node checked alone on its inputs names the node whose backward is
    // wrong (a wrong input gradient corrupts only the tensors upstream of its node, so the
    // whole-model comparison alone would blame a node before it).
    if (!res.mismatches.empty()) {
        m.forward(xc, opts.pass_mode);
        detail::gradcheck::local_options lo;
        lo.pass_mode = opts.pass_mode;
        lo.random_seed = opts.random_seed;
        const auto alone = detail::gradcheck::check_nodes_alone(m, lo);
        if (const std::size_t n = detail::gradcheck::first_wrong_node(alone); n != detail::npos) {
            std::string which;
            for (const auto& t : alone.tensors)
                if (t.node == n && t.mismatches)
                    which += (which.empty() ? "" : ", ") + t.tensor.substr(m.node(n).label().size() + 1);
            res.notes.push_back(fmt::format(
                "checked alone on the inputs it receives, {} gives a wrong gradient ({}): its "
                "backward is wrong; the wrong gradients upstream of it follow from it",
                m.node(n).label(), which));
        }
    }
    // And the wrong tensor nearest the output, and the next node after it whose gradients are
    // all right.
    std::size_t worst = detail::npos;
    for (const auto& t : res.tensors)
        if (t.mismatches && (worst == detail::npos || t.node > worst)) worst = t.node;
    if (worst != detail::npos) {
        std::size_t next_right = detail::npos;
        for (const auto& t : res.tensors) {
            if (t.node <= worst || (next_right != detail::npos && t.node >= next_right)) continue;
            bool node_right = true;
            for (const auto& u : res.tensors)
                if (u.node == t.node && u.mismatches) node_right = false;
            if (node_right) next_right = t.node;
        }
        res.notes.push_back(fmt::format(
            "the wrong gradient nearest the output belongs to {}: look at its backward and at "
            "the parameter-free nodes after it{}",
            m.node(worst).label(),
            next_right == detail::npos
                ? std::string()
                : fmt::format(", up to {} (whose gradients are right)", m.node(next_right).label())));
    }

    // Leave the model coherent: outputs and gradients of the caller's x, not of our copy.
    forward_caller();
    m.output_grad() = r;
    m.backward();
    return res;
}

}  // namespace nnp

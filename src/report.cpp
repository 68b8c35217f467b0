// The HTML report: plain HTML and inline SVG, readable without a network or scripts.
//
// Each chart is a <figure> holding its own SVG and its own legend, so the legend cannot drift
// beside another chart. Axes are real: ticks on both axes, the step on x, and on a log scale
// ticks only at exact powers of ten (and 2 and 5 times them), whose labels are exact. Values a
// scale cannot place are not hidden on a border: a zero on a log scale goes to a "0" band under
// the plot, a NaN or infinity to a band above it, each with its own marker.
#include <nnprobe/probes/report.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include <nnprobe/error.hpp>
#include <nnprobe/version.hpp>

namespace nnp {
namespace {

std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

// A value as a person reads it in a tooltip or a note.
std::string value_text(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+inf" : "-inf";
    return fmt::format("{:.4g}", v);
}

const char* const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                               "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"};

struct line {
    std::string label;
    const std::vector<double>* values;
};

struct chart_spec {
    std::string id;       // the figure's anchor
    std::string check;    // the verdict the chart explains, if any
    std::string title;
    std::string y_label;  // what is measured: "loss", "max |gradient|"
    bool log_y = false;
    std::vector<line> lines;
    std::optional<double> threshold;  // drawn as a dashed rule when it is on the y scale
    std::string threshold_what;       // "of the evaluation loss"
    std::optional<std::size_t> step;  // the step a verdict names, marked
    std::string note;                 // a sentence under the legend
};

// "Nice" tick spacing: 1, 2 or 5 times a power of ten, giving at most about `most` intervals.
double nice_step(double range, double most) {
    const double raw = range / most;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    for (double f : {1.0, 2.0, 5.0, 10.0})
        if (f * mag >= raw * (1 - 1e-9)) return f * mag;
    return 10 * mag;
}

// m * 10^e written exactly ("0.002", "500", "2e-07" style avoided: "2e-7").
std::string power_label(int m, int e) {
    if (e >= 0 && e <= 4) return std::to_string(m) + std::string(static_cast<std::size_t>(e), '0');
    if (e < 0 && e >= -4) return "0." + std::string(static_cast<std::size_t>(-e - 1), '0') + std::to_string(m);
    return fmt::format("{}e{}", m, e);
}

struct tick {
    double at;  // in scale units: the value, or its log10
    std::string label;
};

// The y scale of a chart: the range in scale units (log10 of the value for a log scale), the
// ticks, and what of the data it cannot place.
struct y_scale {
    bool log = false;
    double lo = 0, hi = 1;
    std::vector<tick> ticks;
    bool has_zero = false;       // values <= 0 on a log scale: drawn in the "0" band
    bool has_nonfinite = false;  // NaN or infinity: drawn in the band above
    bool has_nan = false, has_inf = false, has_negative = false;
    bool placeable(double v) const { return std::isfinite(v) && (!log || v > 0); }
    double unit(double v) const { return log ? std::log10(v) : v; }
};

y_scale make_y_scale(const chart_spec& c) {
    y_scale s;
    s.log = c.log_y;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& l : c.lines)
        for (double v : *l.values) {
            if (!std::isfinite(v)) {
                s.has_nonfinite = true;
                (std::isnan(v) ? s.has_nan : s.has_inf) = true;
                continue;
            }
            if (!s.placeable(v)) {
                s.has_zero = true;
                s.has_negative = s.has_negative || v < 0;
                continue;
            }
            lo = std::min(lo, s.unit(v));
            hi = std::max(hi, s.unit(v));
        }
    // The threshold joins the range when it is near the data (within six decades on a log
    // scale); one far away would flatten the data into a line, and is stated in words instead.
    if (c.threshold && s.placeable(*c.threshold)) {
        const double t = s.unit(*c.threshold);
        const bool near = !std::isfinite(lo) || !s.log || (t > lo - 6 && t < hi + 6);
        if (near) lo = std::min(lo, t), hi = std::max(hi, t);
    }
    if (s.log) {
        if (!std::isfinite(lo)) lo = -1, hi = 0;
        s.lo = std::floor(lo);
        s.hi = std::ceil(hi);
        if (s.hi <= s.lo) s.hi = s.lo + 1;
        const int decades = static_cast<int>(s.hi - s.lo);
        const int every = (decades + 5) / 6;  // at most about six labelled decades
        for (int e = static_cast<int>(s.lo); e <= static_cast<int>(s.hi); ++e) {
            if ((e - static_cast<int>(s.lo)) % every == 0) s.ticks.push_back({double(e), power_label(1, e)});
            if (decades <= 2 && e < static_cast<int>(s.hi))
                for (int m : {2, 5}) s.ticks.push_back({e + std::log10(double(m)), power_label(m, e)});
        }
        return s;
    }
    if (!std::isfinite(lo)) lo = 0, hi = 1;
    // A loss or a norm read against zero: the axis starts there when the data are positive.
    if (lo > 0) lo = 0;
    if (hi < 0) hi = 0;
    if (hi - lo < 1e-300) hi = lo + 1;
    const double step = nice_step(hi - lo, 5);
    const long first = static_cast<long>(std::floor(lo / step + 1e-9));
    const long last = static_cast<long>(std::ceil(hi / step - 1e-9));
    s.lo = double(first) * step;
    s.hi = double(last) * step;
    const double biggest = std::max(std::abs(s.lo), std::abs(s.hi));
    const int digits = std::max(1, static_cast<int>(std::floor(std::log10(biggest)) - std::floor(std::log10(step))) + 1);
    for (long i = first; i <= last; ++i) {
        const double v = double(i) * step;
        s.ticks.push_back({v, i == 0 ? "0" : fmt::format("{:.{}g}", v, digits)});
    }
    return s;
}

std::vector<tick> step_ticks(std::size_t steps) {
    const double last = steps > 1 ? double(steps - 1) : 1;
    const double step = std::max(1.0, nice_step(last, 8));
    std::vector<tick> t;
    for (double v = 0; v <= last + 1e-9; v += step) t.push_back({v, fmt::format("{:.0f}", v)});
    return t;
}

// One chart: a <figure> with its caption, its SVG and its legend.
std::string figure(const chart_spec& c) {
    const y_scale ys = make_y_scale(c);
    std::size_t steps = 1;
    for (const auto& l : c.lines) steps = std::max(steps, l.values->size());

    // In the bands, each series with such values gets its own lane, so that one tensor's
    // markers do not hide another's.
    std::vector<int> zero_lane(c.lines.size(), -1), nonfinite_lane(c.lines.size(), -1);
    int zero_lanes = 0, nonfinite_lanes = 0;
    for (std::size_t k = 0; k < c.lines.size(); ++k) {
        const auto& v = *c.lines[k].values;
        if (std::any_of(v.begin(), v.end(), [&](double x) { return std::isfinite(x) && !ys.placeable(x); }))
            zero_lane[k] = zero_lanes++;
        if (std::any_of(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }))
            nonfinite_lane[k] = nonfinite_lanes++;
    }
    auto band_height = [](int lanes) { return lanes <= 1 ? 16.0 : 9.0 * lanes + 6; };
    auto lane_y = [&](double band_top, int lane, int lanes) {
        return lanes <= 1 ? band_top + 8 : band_top + 7.5 + 9.0 * lane;
    };

    // Geometry, in SVG user units; the SVG scales to the figure's width.
    // The left margin fits the longest tick label at the phone's larger font (about 9.5 units a
    // character); the y axis is named above the plot, where a long name has room.
    const std::string nonfinite_label = ys.has_nan && ys.has_inf ? "NaN/inf" : ys.has_nan ? "NaN" : "inf";
    std::size_t widest = ys.has_nonfinite ? nonfinite_label.size() : 1;
    for (const auto& t : ys.ticks) widest = std::max(widest, t.label.size());
    const double W = 520, L = 14 + 9.5 * double(widest), R = 14, PH = 170;
    double y = 30;
    const double nonfinite_top = y, nonfinite_h = band_height(nonfinite_lanes);
    if (ys.has_nonfinite) y += nonfinite_h + 6;
    const double top = y + 6, bottom = top + PH;  // room above for the step marker's label
    const double zero_top = bottom + 10, zero_h = band_height(zero_lanes);
    const double axis = ys.has_zero ? zero_top + zero_h + 2 : bottom;
    const double H = axis + 44;
    const double xlast = steps > 1 ? double(steps - 1) : 1;
    auto px = [&](double i) { return L + (W - L - R) * i / xlast; };
    auto py = [&](double unit) { return bottom - PH * (unit - ys.lo) / (ys.hi - ys.lo); };

    std::string s = fmt::format(
        "<figure class=\"chart\" id=\"{}\"{}><figcaption>{}</figcaption>"
        "<svg class=\"plot\" data-scale=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">",
        escape(c.id), c.check.empty() ? "" : fmt::format(" data-check=\"{}\"", escape(c.check)), escape(c.title),
        ys.log ? "log" : "linear", W, H, escape(c.title));

    // Grid and y ticks.
    for (const auto& t : ys.ticks) {
        const double ty = py(t.at);
        s += fmt::format("<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{:.2f}\" y2=\"{:.2f}\"/>", L, W - R, ty, ty);
        s += fmt::format("<text class=\"tick y\" x=\"{}\" y=\"{:.2f}\" dy=\"0.32em\" text-anchor=\"end\">{}</text>",
                         L - 8, ty, t.label);
    }
    s += fmt::format("<line class=\"axis\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>", L, top, bottom);
    s += fmt::format("<text class=\"axis-label\" x=\"4\" y=\"18\">{}{}</text>", escape(c.y_label),
                     ys.log ? " (log scale)" : "");
    // The bands for what the scale cannot place.
    if (ys.has_nonfinite) {
        s += fmt::format("<rect class=\"band nonfinite-band\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>", L - 4,
                         nonfinite_top, W - L - R + 8, nonfinite_h);
        s += fmt::format("<text class=\"band-label\" x=\"{}\" y=\"{}\" dy=\"0.32em\" text-anchor=\"end\">{}</text>", L - 8,
                         nonfinite_top + nonfinite_h / 2, nonfinite_label);
    }
    if (ys.has_zero) {
        s += fmt::format("<rect class=\"band\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>", L - 4, zero_top,
                         W - L - R + 8, zero_h);
        s += fmt::format("<text class=\"band-label\" x=\"{}\" y=\"{}\" dy=\"0.32em\" text-anchor=\"end\">{}</text>", L - 8,
                         zero_top + zero_h / 2, ys.has_negative ? "&#8804;0" : "0");
    }
    // The step axis.
    s += fmt::format("<line class=\"axis\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>", L, W - R, axis, axis);
    for (const auto& t : step_ticks(steps)) {
        const double tx = px(t.at);
        s += fmt::format("<line class=\"axis\" x1=\"{0:.2f}\" x2=\"{0:.2f}\" y1=\"{1}\" y2=\"{2}\"/>", tx, axis, axis + 4);
        s += fmt::format("<text class=\"tick x\" x=\"{:.2f}\" y=\"{}\" text-anchor=\"middle\">{}</text>", tx, axis + 20, t.label);
    }
    s += fmt::format("<text class=\"axis-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">step</text>", (L + W - R) / 2, axis + 38);

    // The threshold and the named step.
    bool threshold_drawn = false;
    if (c.threshold && ys.placeable(*c.threshold)) {
        const double u = ys.unit(*c.threshold);
        if (u >= ys.lo && u <= ys.hi) {
            threshold_drawn = true;
            const double ty = py(u);
            s += fmt::format("<line class=\"threshold\" x1=\"{}\" x2=\"{}\" y1=\"{:.2f}\" y2=\"{:.2f}\"/>", L, W - R, ty, ty);
            s += fmt::format("<text class=\"threshold-label\" x=\"{}\" y=\"{:.2f}\" text-anchor=\"end\">threshold {}</text>",
                             W - R - 4, ty - 4, value_text(*c.threshold));
        }
    }
    const bool step_drawn = c.step && *c.step < steps;
    if (step_drawn) {
        const double sx = px(double(*c.step));
        s += fmt::format("<line class=\"step-mark\" x1=\"{0:.2f}\" x2=\"{0:.2f}\" y1=\"{1}\" y2=\"{2}\"/>", sx, top, axis);
        s += fmt::format("<text class=\"step-label\" x=\"{:.2f}\" y=\"{}\" text-anchor=\"{}\">step {}</text>", sx + 4,
                         top + 10, 2 * *c.step < steps ? "start" : "end", *c.step);
    }

    // The series: unbroken runs of placeable values as polylines; the rest as markers.
    for (std::size_t k = 0; k < c.lines.size(); ++k) {
        const auto& v = *c.lines[k].values;
        const char* colour = palette[k % 10];
        const std::string label = escape(c.lines[k].label);
        // Past ten series the colours repeat, dashed.
        s += fmt::format("<g class=\"series{}\" data-label=\"{}\" stroke=\"{}\" fill=\"{}\">", k / 10 % 2 ? " dashed" : "",
                         label, colour, colour);
        std::vector<std::pair<double, double>> run;  // the current unbroken run's points
        auto flush = [&] {
            if (run.size() == 1) {
                s += fmt::format("<circle class=\"lone\" cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"2.5\"/>", run[0].first, run[0].second);
            } else if (run.size() > 1) {
                s += "<polyline fill=\"none\" points=\"";
                for (std::size_t i = 0; i < run.size(); ++i)
                    s += fmt::format("{}{:.2f},{:.2f}", i ? " " : "", run[i].first, run[i].second);
                s += "\"/>";
            }
            run.clear();
        };
        for (std::size_t i = 0; i < v.size(); ++i) {
            const double x = px(double(i));
            if (ys.placeable(v[i])) {
                run.emplace_back(x, py(ys.unit(v[i])));
                continue;
            }
            flush();
            if (std::isfinite(v[i])) {  // zero (or negative) on a log scale
                s += fmt::format("<circle class=\"zero\" cx=\"{:.2f}\" cy=\"{}\" r=\"3.2\"><title>{}, step {}: {}</title></circle>",
                                 x, lane_y(zero_top, zero_lane[k], zero_lanes), label, i, value_text(v[i]));
            } else {
                s += fmt::format("<path class=\"nonfinite\" d=\"M{:.2f} {:.2f}l6 6m0 -6l-6 6\"><title>{}, step {}: {}</title></path>",
                                 x - 3, lane_y(nonfinite_top, nonfinite_lane[k], nonfinite_lanes) - 3, label, i,
                                 value_text(v[i]));
            }
        }
        flush();
        // Short series get a dot per step, each telling its value on hover.
        if (v.size() <= 60)
            for (std::size_t i = 0; i < v.size(); ++i)
                if (ys.placeable(v[i]))
                    s += fmt::format("<circle class=\"dot\" cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"1.8\"><title>{}, step {}: {}</title></circle>",
                                     px(double(i)), py(ys.unit(v[i])), label, i, value_text(v[i]));
        s += "</g>";
    }
    s += "</svg>";

    // The legend, inside the figure.
    s += "<ul class=\"legend\">";
    for (std::size_t k = 0; k < c.lines.size(); ++k)
        s += fmt::format("<li><span class=\"swatch\" style=\"border-color:{}{}\"></span>{}</li>", palette[k % 10],
                         k / 10 % 2 ? ";border-top-style:dashed" : "", escape(c.lines[k].label));
    if (threshold_drawn)
        s += fmt::format("<li><span class=\"swatch threshold\"></span>threshold {}{}</li>", value_text(*c.threshold),
                         c.threshold_what.empty() ? "" : " " + escape(c.threshold_what));
    if (step_drawn) s += fmt::format("<li><span class=\"swatch step-mark\"></span>step {}, named by the verdict</li>", *c.step);
    if (ys.has_zero)
        s += fmt::format("<li><span class=\"marker\">&#9675;</span>{} (off the log scale, drawn below it)</li>",
                         ys.has_negative ? "0 or negative" : "exactly 0");
    if (ys.has_nonfinite)
        s += fmt::format("<li><span class=\"marker\">&#215;</span>{} (drawn above the scale)</li>",
                         ys.has_nan && ys.has_inf ? "NaN or infinite" : ys.has_nan ? "NaN" : "infinite");
    s += "</ul>";
    std::string note = c.note;
    if (!std::any_of(c.lines.begin(), c.lines.end(), [&](const line& l) {
            return std::any_of(l.values->begin(), l.values->end(), [&](double v) { return ys.placeable(v); });
        }))
        note = std::string("No value falls on the scale: every one is in a band.") + (note.empty() ? "" : " ") + note;
    if (c.threshold && !threshold_drawn)
        note += fmt::format("{}The threshold, {}{}, is off this scale.", note.empty() ? "" : " ", value_text(*c.threshold),
                            c.threshold_what.empty() ? "" : " " + c.threshold_what);
    if (c.step && !step_drawn)
        note += fmt::format("{}The verdict names step {}, beyond the {} steps shown.", note.empty() ? "" : " ", *c.step, steps);
    if (!note.empty()) s += fmt::format("<p class=\"note\">{}</p>", escape(note));
    s += "</figure>";
    return s;
}

// What a failing verdict measured, over the steps, for the node it blames: the quantity the
// check compared with its threshold.
struct blamed_quantity {
    std::string y_label;
    std::vector<double> tensor_series::*series;
    bool threshold_applies;  // the verdict's threshold is on this quantity, step by step
};

std::optional<blamed_quantity> blamed(const verdict& v) {
    if (!v.node) return std::nullopt;
    if (v.check == "gradients_flow") return blamed_quantity{"max |gradient|", &tensor_series::grad_max, true};
    if (v.check == "all_layers_change")
        return v.step ? blamed_quantity{"max |update|", &tensor_series::delta_max, true}
                      : blamed_quantity{"|update| / |weight|", &tensor_series::update_ratio, false};
    return std::nullopt;
}

std::string verdict_charts(const report_section& r, const verdict& v, const std::string& id) {
    std::string s = fmt::format("<div class=\"failure\"><h4>{} <span class=\"fail\">FAIL</span></h4><div class=\"charts\">",
                                escape(v.check));
    if (!v.series.empty()) {
        chart_spec c;
        c.id = id;
        c.check = v.check;
        c.title = fmt::format("{}: the loss of its own run, {} steps", v.check, v.series.size());
        c.y_label = "loss";
        c.lines = {{"training loss", &v.series}};
        if (v.check == "overfits") {
            c.threshold = v.threshold;
            c.threshold_what = "(on the evaluation loss)";
        }
        if (v.node && v.step) c.step = v.step;
        s += figure(c);
    }
    if (const auto q = blamed(v)) {
        chart_spec c;
        c.id = id + "-node";
        c.check = v.check;
        c.title = fmt::format("{}: node {}, {} per step", v.check, *v.node, q->y_label);
        c.y_label = q->y_label;
        c.log_y = true;
        for (std::size_t i = 0; i < r.tensors.size() && i < r.tensor_labels.size(); ++i)
            if (r.tensors[i].node == *v.node) c.lines.push_back({r.tensor_labels[i], &(r.tensors[i].*(q->series))});
        if (q->threshold_applies) c.threshold = v.threshold;
        c.step = v.step;
        c.note = "From the recorded run (same seed and subset).";
        if (!q->threshold_applies)
            c.note += fmt::format(" The check compares the mean over the steps, {}, with {}.", value_text(v.measured),
                                  value_text(v.threshold));
        if (!c.lines.empty()) s += figure(c);
    }
    s += "</div></div>";
    return s;
}

std::string section_html(const report_section& r, std::size_t index) {
    const std::string sid = fmt::format("p{}", index + 1);
    std::string s = fmt::format("<section id=\"{}\"><h2>{}</h2><p class=\"network\"><code>{}</code></p>", sid,
                                escape(r.title), escape(r.description));
    s += "<dl class=\"settings\">";
    for (const auto& [name, value] : r.settings)
        s += fmt::format("<div><dt>{}</dt><dd>{}</dd></div>", escape(name), escape(value));
    s += fmt::format("<div><dt>nnprobe</dt><dd>{}</dd></div></dl>", escape(version));

    s += "<table class=\"verdicts\"><thead><tr><th>check</th><th>verdict</th><th>explanation</th></tr></thead><tbody>";
    std::string failures;
    for (const auto& v : r.verdicts) {
        const std::string id = sid + "-" + v.check;
        const bool charted = !v.passed && (!v.series.empty() || blamed(v));
        s += fmt::format("<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}{}</td></tr>", v.passed ? "pass" : "fail",
                         escape(v.check), v.passed ? "PASS" : "FAIL", escape(v.explanation),
                         charted ? fmt::format(" <a href=\"#{}\">chart</a>", escape(id)) : "");
        if (charted) failures += verdict_charts(r, v, id);
    }
    s += "</tbody></table>";
    if (!failures.empty()) s += "<h3>Why it fails</h3>" + failures;

    const std::size_t steps = r.loss.size();
    s += fmt::format("<h3>The recorded run: {} steps</h3><div class=\"charts\">", steps);
    s += figure({sid + "-loss", "", "loss", "loss", false, {{"training loss", &r.loss}}, {}, {}, {}, {}});
    chart_spec grads{sid + "-grad", "", "gradient norm per tensor", "|gradient|", true, {}, {}, {}, {}, {}};
    chart_spec ratios{sid + "-ratio", "", "update / weight ratio per tensor", "|update| / |weight|", true, {}, {}, {}, {}, {}};
    for (std::size_t i = 0; i < r.tensors.size(); ++i) {
        const std::string label = i < r.tensor_labels.size() ? r.tensor_labels[i] : r.tensors[i].tensor;
        grads.lines.push_back({label, &r.tensors[i].grad_norm});
        ratios.lines.push_back({label, &r.tensors[i].update_ratio});
    }
    s += figure(grads) + figure(ratios);
    s += "</div></section>";
    return s;
}

const char* const style =
    "*{box-sizing:border-box}"
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;max-width:1200px;"
    "margin:0 auto;padding:1em;color:#222;background:#fff}"
    "h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.25em;margin:0 0 .3em}h3{font-size:1.05em;margin:1.4em 0 .5em}"
    "h4{font-size:1em;margin:.8em 0 .4em}"
    ".meta{color:#555;margin:.2em 0 1em}"
    "section{border-top:2px solid #ddd;margin-top:1.5em;padding-top:1em}"
    ".network code{font-size:.95em;background:#f4f4f4;padding:.1em .35em;border-radius:3px;overflow-wrap:anywhere}"
    ".settings{display:flex;flex-wrap:wrap;gap:.3em .5em;margin:.6em 0;padding:0;font-size:.9em}"
    ".settings div{background:#f4f6f8;border:1px solid #dde2e6;border-radius:3px;padding:.1em .5em}"
    ".settings dt{display:inline;color:#555}.settings dt::after{content:' '}"
    ".settings dd{display:inline;margin:0;font-weight:600;font-variant-numeric:tabular-nums}"
    "table{border-collapse:collapse;width:100%}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
    "tr.pass td:nth-child(2),span.pass{color:#1a7f37;font-weight:bold}"
    "tr.fail td:nth-child(2),span.fail{color:#c62828;font-weight:bold}tr.fail{background:#fff3f3}"
    ".charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,460px),1fr));gap:1em}"
    "figure.chart{margin:0;border:1px solid #ddd;border-radius:4px;padding:.5em .6em .6em;min-width:0}"
    "figcaption{font-weight:600;margin-bottom:.2em}"
    "svg.plot{display:block;width:100%;height:auto;font-family:inherit}"
    "svg text{font-size:12px;fill:#444}"
    ".grid{stroke:#e6e6e6}.axis{stroke:#888}.band{fill:#f1f1f1}.nonfinite-band{fill:#fdeaea}.band-label{font-weight:bold}"
    ".series polyline{stroke-width:1.6;stroke-linejoin:round}.series.dashed polyline{stroke-dasharray:6 3}.series .lone,.series .dot{stroke:none}"
    ".series .zero{fill:#fff;stroke-width:1.6}.series .nonfinite{fill:none;stroke-width:2}"
    ".threshold{stroke:#333;stroke-dasharray:6 4}.threshold-label{fill:#333}"
    ".step-mark{stroke:#c62828;stroke-dasharray:3 3}svg .step-label{fill:#c62828}"
    ".legend{list-style:none;margin:.4em 0 0;padding:0;display:flex;flex-wrap:wrap;gap:.15em 1.1em;font-size:13px}"
    ".swatch{display:inline-block;width:20px;border-top:3px solid;vertical-align:middle;margin-right:.4em}"
    ".swatch.threshold{border-top:2px dashed #333}.swatch.step-mark{border-top:2px dashed #c62828}"
    ".marker{display:inline-block;width:20px;text-align:center;margin-right:.4em;font-weight:bold}"
    ".note{font-size:13px;color:#555;margin:.3em 0 0}"
    // On a phone the table's rows become blocks (check and verdict, then the explanation),
    // and the charts' text grows to stay readable as the SVG scales down.
    "@media (max-width:600px){body{padding:.6em;font-size:14px}svg text{font-size:17px}"
    "table.verdicts thead{display:none}table.verdicts tr{display:grid;grid-template-columns:1fr auto;"
    "border:1px solid #ccc;margin-bottom:-1px}table.verdicts td{border:0;padding:3px 6px}"
    "table.verdicts td:nth-child(1){font-weight:600}table.verdicts td:nth-child(3){grid-column:1/-1}"
    "figure.chart{padding:.4em}}";

}  // namespace

void write_html_report(const std::string& path, const std::string& title,
                       const std::vector<report_section>& sections) {
    std::string page = fmt::format(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{0}</title>"
        "<style>{1}</style></head><body><header><h1>{0}</h1><p class=\"meta\">nnprobe <span class=\"version\">{2}</span>",
        escape(title), style, escape(version));
    for (std::size_t i = 0; i < sections.size(); ++i) {
        std::size_t failed = 0;
        for (const auto& v : sections[i].verdicts) failed += v.passed ? 0 : 1;
        page += fmt::format(" &middot; <a href=\"#p{}\">{}</a>: {}", i + 1, escape(sections[i].title),
                            failed ? fmt::format("<span class=\"fail\">{} of {} checks fail</span>", failed, sections[i].verdicts.size())
                                   : fmt::format("<span class=\"pass\">all {} checks pass</span>", sections[i].verdicts.size()));
    }
    page += "</p></header>";
    for (std::size_t i = 0; i < sections.size(); ++i) page += section_html(sections[i], i);
    page += "</body></html>\n";

    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw error(fmt::format("nnprobe: cannot write the report to {}", path));
        out << page;
        if (!out.flush()) {
            out.close();
            std::remove(tmp.c_str());
            throw error(fmt::format("nnprobe: writing the report to {} failed", path));
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::remove(tmp.c_str());
        throw error(fmt::format("nnprobe: cannot write the report to {}: {}", path, ec.message()));
    }
}

}  // namespace nnp

// The HTML report: plain HTML and inline SVG, readable without a network or scripts.
#include <nnprobe/probes/report.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>

#include <fmt/format.h>

#include <nnprobe/error.hpp>

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

const char* const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                               "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"};

// One line chart. With `log_y`, values <= 0 are drawn at the bottom edge (a zero gradient is
// exactly what the reader must see).
std::string chart(const std::string& title, const std::vector<std::vector<double>>& lines,
                  const std::vector<std::string>& labels, bool log_y) {
    const double W = 560, H = 220, L = 60, R = 10, T = 24, B = 30;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    std::size_t steps = 1;
    for (const auto& l : lines) {
        steps = std::max(steps, l.size());
        for (double v : l) {
            if (!std::isfinite(v) || (log_y && v <= 0)) continue;
            const double y = log_y ? std::log10(v) : v;
            lo = std::min(lo, y);
            hi = std::max(hi, y);
        }
    }
    if (!std::isfinite(lo)) lo = 0, hi = 1;
    if (hi - lo < 1e-12) hi = lo + 1;
    auto px = [&](std::size_t i) { return L + (W - L - R) * (steps > 1 ? double(i) / double(steps - 1) : 0.5); };
    auto py = [&](double v) {
        if (!std::isfinite(v) || (log_y && v <= 0)) return H - B;
        const double y = log_y ? std::log10(v) : v;
        return T + (H - T - B) * (1 - (y - lo) / (hi - lo));
    };
    std::string s = fmt::format(
        "<svg width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\"><title>{}</title>"
        "<text x=\"{}\" y=\"16\" font-weight=\"bold\">{}</text>"
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>",
        W, H, W, H, escape(title), L, escape(title), L, T, W - L - R, H - T - B);
    auto tick = [&](double y) { return log_y ? fmt::format("1e{:.0f}", y) : fmt::format("{:.3g}", y); };
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>", L - 4, T + 10, tick(hi));
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>", L - 4, H - B, tick(lo));
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">step</text>", (L + W) / 2, H - 8);
    for (std::size_t k = 0; k < lines.size(); ++k) {
        std::string pts;
        for (std::size_t i = 0; i < lines[k].size(); ++i) pts += fmt::format("{:.1f},{:.1f} ", px(i), py(lines[k][i]));
        s += fmt::format("<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"{}\" points=\"{}\"><title>{}</title></polyline>",
                         palette[k % 10], pts, escape(k < labels.size() ? labels[k] : ""));
    }
    s += "</svg>";
    if (labels.size() > 1) {
        s += "<ul class=\"legend\">";
        for (std::size_t k = 0; k < labels.size(); ++k)
            s += fmt::format("<li><span style=\"color:{}\">&#9632;</span> {}</li>", palette[k % 10], escape(labels[k]));
        s += "</ul>";
    }
    return s;
}

std::string section_html(const report_section& r) {
    std::string s = fmt::format("<section><h2>{}</h2><p>{}</p><table><tr><th>check</th><th>verdict</th><th>explanation</th></tr>",
                                escape(r.title), escape(r.description));
    for (const auto& v : r.verdicts)
        s += fmt::format("<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td></tr>", v.passed ? "pass" : "fail",
                         escape(v.check), v.passed ? "PASS" : "FAIL", escape(v.explanation));
    s += "</table><div class=\"charts\">";
    s += chart("loss", {r.loss}, {"loss"}, false);
    std::vector<std::vector<double>> grads, ratios;
    for (const auto& t : r.tensors) {
        grads.push_back(t.grad_norm);
        ratios.push_back(t.update_ratio);
    }
    s += chart("gradient norm per tensor (log)", grads, r.tensor_labels, true);
    s += chart("update / weight ratio per tensor (log)", ratios, r.tensor_labels, true);
    s += "</div></section>";
    return s;
}

}  // namespace

void write_html_report(const std::string& path, const std::string& title,
                       const std::vector<report_section>& sections) {
    std::string page = fmt::format(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{0}</title><style>"
        "body{{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}}"
        "table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}"
        "tr.pass td:nth-child(2){{color:#1a7f37;font-weight:bold}}tr.fail td:nth-child(2){{color:#c62828;font-weight:bold}}"
        "tr.fail{{background:#fff3f3}}.charts{{display:flex;flex-wrap:wrap;gap:1em;margin-top:1em}}"
        ".legend{{list-style:none;padding:0;font-size:90%}}svg text{{font-size:11px}}"
        "</style></head><body><h1>{0}</h1>",
        escape(title));
    for (const auto& r : sections) page += section_html(r);
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

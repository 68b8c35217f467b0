#pragma once
// A report a person would rather look at than read: per pipeline, the run's settings, the
// verdicts, each failing verdict's own series, the loss curve, and per-tensor gradient norms
// and update/weight ratios over the steps, as one self-contained HTML page (inline SVG, no
// scripts, nothing fetched) that reads on a desktop and on a phone.
#include <string>
#include <utility>
#include <vector>

#include "series.hpp"
#include "verdict.hpp"

namespace nnp {

struct report_section {
    std::string title;                        // "healthy pipeline"
    std::string description;                  // the network and stages, one line
    std::vector<verdict> verdicts;
    std::vector<double> loss;                 // the recorded run's loss per step
    std::vector<tensor_series> tensors;       // the recorded run's per-tensor series
    std::vector<std::string> tensor_labels;   // "node 1 dense<16> weight", one per tensor
    // What the run depends on, as (name, value): the seed, every probe option, the scalar
    // type; printed in this order. The page adds the library's version.
    std::vector<std::pair<std::string, std::string>> settings;
};

// Writes the page; throws nnp::error naming the path when it cannot be written. The page
// is written to a temporary file first and renamed, so a failure leaves nothing half-written.
void write_html_report(const std::string& path, const std::string& title,
                       const std::vector<report_section>& sections);

}  // namespace nnp

#pragma once
// What a check returns: pass or fail, and on failure an explanation that reads like a good
// compiler error: the check, the node (index, layer, name), the step, the measured value,
// the threshold and a hint. The recorded series travel with it for reports.
#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace nnp {

struct verdict {
    std::string check;                 // "overfits", "gradients_flow", ...
    bool passed = false;
    std::string explanation;           // one paragraph, starts with the check's name
    std::optional<std::size_t> node;   // the node blamed, when there is one
    std::optional<std::size_t> step;   // the step at which it was seen
    double measured = 0;
    double threshold = 0;
    std::string hint;
    std::string stage;                 // the user stage blamed (blame_stage), when one alone is
    std::vector<std::string> notes;    // what a passing check left out, and why
    std::vector<double> series;        // e.g. the loss curve of the run

    explicit operator bool() const { return passed; }
};

inline std::ostream& operator<<(std::ostream& os, const verdict& v) {
    return os << (v.passed ? "PASS " : "FAIL ") << v.explanation;
}

}  // namespace nnp

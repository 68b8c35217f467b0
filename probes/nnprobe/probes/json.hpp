#pragma once
// Verdicts as JSON, for a CI dashboard: every verdict with its test case, node, step,
// measured value, threshold, hint and series, plus the library version. Written with
// nlohmann-json in src/json.cpp, so a user's translation unit does not pay for it.
#include <string>
#include <vector>

#include "verdict.hpp"

namespace nnp {

// A verdict and where it was checked (the doctest test case, or any label).
struct labelled_verdict {
    std::string test_case;
    verdict v;
};

// Writes `{"nnprobe": version, "verdicts": [...]}` to `path`, atomically (a temporary file,
// then renamed); throws nnp::error naming the path when it cannot.
void write_json_verdicts(const std::string& path, const std::vector<labelled_verdict>& verdicts);

// The same document as a string.
std::string json_verdicts(const std::vector<labelled_verdict>& verdicts);

}  // namespace nnp

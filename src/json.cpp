// Verdicts as JSON (nlohmann-json).
#include <nnprobe/probes/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <nnprobe/error.hpp>
#include <nnprobe/version.hpp>

namespace nnp {
namespace {

// JSON has no NaN or infinity: a non-finite number (a diverged loss) is written as the
// string "nan", "inf" or "-inf", so the reader sees it instead of a null.
nlohmann::json number(double x) {
    if (std::isfinite(x)) return x;
    if (std::isnan(x)) return "nan";
    return x > 0 ? "inf" : "-inf";
}

nlohmann::json to_json(const labelled_verdict& lv) {
    const verdict& v = lv.v;
    nlohmann::json series = nlohmann::json::array();
    for (double x : v.series) series.push_back(number(x));
    return {
        {"test_case", lv.test_case},
        {"check", v.check},
        {"passed", v.passed},
        {"explanation", v.explanation},
        {"node", v.node ? nlohmann::json(*v.node) : nlohmann::json()},
        {"step", v.step ? nlohmann::json(*v.step) : nlohmann::json()},
        {"measured", number(v.measured)},
        {"threshold", number(v.threshold)},
        {"hint", v.hint},
        {"stage", v.stage},
        {"notes", v.notes},
        {"series", std::move(series)},
    };
}

}  // namespace

std::string json_verdicts(const std::vector<labelled_verdict>& verdicts) {
    nlohmann::json doc{{"nnprobe", NNPROBE_VERSION_STRING}, {"verdicts", nlohmann::json::array()}};
    for (const auto& v : verdicts) doc["verdicts"].push_back(to_json(v));
    return doc.dump(2) + "\n";
}

void write_json_verdicts(const std::string& path, const std::vector<labelled_verdict>& verdicts) {
    const std::string text = json_verdicts(verdicts);
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary);
        out << text;
        if (!out.flush()) {
            std::remove(tmp.c_str());
            throw error(fmt::format("nnprobe: cannot write the verdicts to {}", path));
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::remove(tmp.c_str());
        throw error(fmt::format("nnprobe: cannot write the verdicts to {}: {}", path, ec.message()));
    }
}

}  // namespace nnp

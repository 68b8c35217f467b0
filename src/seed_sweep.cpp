// Seed sweeps (probes/nnprobe/probes/seed_sweep.hpp): the sweep and its texts, compiled once
// here rather than in every translation unit that generates a probe case.
#include <nnprobe/probes/seed_sweep.hpp>

#include <fmt/core.h>

namespace nnp {

std::string sweep_result::summary() const {
    std::string s = fmt::format("{}: {} of {} seeds pass ({:.0f}%)", check, seeds.size() - failing.size(),
                                seeds.size(), 100 * pass_rate());
    if (!failing.empty()) {
        s += "; failing seeds: ";
        for (std::size_t k = 0; k < failing.size(); ++k) s += (k ? ", " : "") + std::to_string(failing[k]);
    }
    return s;
}

std::string sweep_result::replay(std::string_view program, std::string_view test_case) const {
    if (failing.empty()) return {};
    return fmt::format("NNP_SEED={} {} -tc='{}'", failing.front(), program, test_case);
}

namespace detail {
std::vector<sweep_result> sweep(function_ref<std::vector<verdict>(const probe_options&)> run, std::size_t count,
                                probe_options o) {
    std::vector<sweep_result> out;
    const std::uint64_t first = o.run_seed.value;
    for (std::uint64_t s = first; s < first + count; ++s) {
        o.run_seed = seed{s};
        const auto verdicts = run(o);
        if (out.empty()) out.resize(verdicts.size());
        for (std::size_t k = 0; k < verdicts.size() && k < out.size(); ++k) {
            auto& r = out[k];
            r.check = verdicts[k].check;
            r.seeds.push_back(s);
            if (!verdicts[k].passed) {
                r.failing.push_back(s);
                r.failures.push_back(verdicts[k]);
            }
        }
    }
    return out;
}
}  // namespace detail

}  // namespace nnp

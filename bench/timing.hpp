#pragma once
// What the nnprobe and dlib benchmark programs share: one workload's figures and the
// process's peak memory. No nnprobe or dlib headers here, so both can include it.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

using clock_type = std::chrono::steady_clock;

struct result {
    std::string id;
    std::vector<double> us;  // one figure per run
    double final_loss = NAN;
    double accuracy = NAN;
    std::size_t steps = 0;
    bool passed = true;  // W4: the batch-invariance verdict
    double median() const {
        std::vector<double> v = us;
        std::sort(v.begin(), v.end());
        const std::size_t n = v.size();
        return n == 0 ? NAN : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    }
};

// Peak resident memory of this process image (VmHWM, KiB). Unlike getrusage's ru_maxrss it
// does not count the parent's memory from before exec (a Python parent's ~15 MB).
inline long peak_rss_kb() {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

inline double micros(clock_type::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

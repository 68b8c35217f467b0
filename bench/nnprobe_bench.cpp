// nnprobe's side of the benchmarks.
//
//   nnprobe_bench                       all workloads, median of 5 runs each, one JSON line each
//   nnprobe_bench --runs 1 --workload W3
//   nnprobe_bench --export DIR          write the workloads (data, initial weights, settings) for
//                                       the PyTorch and dlib peers, then exit
//   nnprobe_bench --runs 1 --workload blas  the BLAS in use and the W3 products alone
//   nnprobe_bench --smoke               a few steps of each workload, untimed, checked against
//                                       the losses and accuracies this seed is known to give
//                                       (the meson test `bench-smoke`); exit 1 on a mismatch
//
// W1-W3 report microseconds per training step (forward, loss, backward, optimiser update: one
// trainer::step on the full batch); W4 reports the total of one "20 recorded steps + batch
// invariance" probe. Each run starts from the seeded initial weights, so every run ends at
// the same loss, and so do the peers (they start from the exported weights).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include <nnprobe/nnprobe.hpp>
#include <nnprobe/probes.hpp>

#include "timing.hpp"
#include "workloads.hpp"

#ifndef NNP_DATA_DIR
#define NNP_DATA_DIR "examples/data"
#endif

namespace {



// W1-W3: `runs` runs of `steps` full-batch steps, each run from the seeded initial weights.
template <class Net, class DS, class Opt>
result time_training(const bench::workload& w, const Net& net, const DS& d, Opt opt,
                     std::size_t steps, std::size_t runs) {
    result res;
    res.id = w.id;
    res.steps = steps;
    {  // warm-up: caches, page faults, OpenBLAS's first call
        auto m = nnp::make_model(net, nnp::seed{w.seed});
        nnp::trainer t(m, nnp::softmax_cross_entropy, opt);
        for (std::size_t k = 0; k < std::min<std::size_t>(steps, 20); ++k) t.step(d.x, d.y);
    }
    for (std::size_t r = 0; r < runs; ++r) {
        auto m = nnp::make_model(net, nnp::seed{w.seed});
        nnp::trainer t(m, nnp::softmax_cross_entropy, opt);
        float loss = 0;
        const auto t0 = clock_type::now();
        for (std::size_t k = 0; k < steps; ++k) loss = t.step(d.x, d.y);
        const auto t1 = clock_type::now();
        res.us.push_back(micros(t1 - t0) / static_cast<double>(steps));
        res.final_loss = loss;
        res.accuracy = nnp::accuracy(m.forward(d.x, nnp::mode::eval), d.y);
    }
    return res;
}

// W7: `runs` runs of `steps` steps of the sequence classifier, step k on batch k mod count, each
// run from the seeded initial weights. A step is what examples/sequence_classifier.cpp does:
// forward with the batch's mask, loss, backward, Adam. Accuracy: every batch, evaluation mode.
result time_w7(const bench::workload& w, const std::vector<nnp::sequence_batch<float>>& batches,
               std::size_t steps, std::size_t runs) {
    result res;
    res.id = w.id;
    res.steps = steps;
    auto one_run = [&](std::size_t n, bool record) {
        auto m = nnp::make_model(bench::w7_net, nnp::seed{w.seed});
        nnp::optimizer_state<nnp::adam, float> opt(nnp::adam{.lr = w.lr});
        float loss = 0;
        const auto t0 = clock_type::now();
        for (std::size_t k = 0; k < n; ++k) {
            const auto& b = batches[k % batches.size()];
            m.forward(b.tokens, b.mask, nnp::mode::train);
            loss = nnp::softmax_cross_entropy(m.output(), b.labels, m.output_grad());
            m.backward();
            opt.step(m.params());
        }
        const auto t1 = clock_type::now();
        if (!record) return;
        res.us.push_back(micros(t1 - t0) / static_cast<double>(n));
        res.final_loss = loss;
        double hit = 0, total = 0;
        for (const auto& b : batches) {
            hit += nnp::accuracy(m.forward(b.tokens, b.mask, nnp::mode::eval), b.labels) *
                   static_cast<double>(b.labels.size());
            total += static_cast<double>(b.labels.size());
        }
        res.accuracy = hit / total;
    };
    one_run(std::min<std::size_t>(steps, 20), false);  // warm-up
    for (std::size_t r = 0; r < runs; ++r) one_run(steps, true);
    return res;
}

const auto w4_pipe = nnp::pipeline(nnp::data_spec<nnp::features<4>, nnp::classes<3>>{}, bench::w1_net,
                                   nnp::softmax_cross_entropy, nnp::adam{.lr = bench::workloads[3].lr});

// W4: one probe = a 20-step recorded mini-run of the W1 model plus the batch-invariance check.
result time_w4(const bench::workload& w, const bench::iris_ds& d, std::size_t reps, std::size_t runs) {
    result res;
    res.id = w.id;
    res.steps = reps;
    auto once = [&] {
        const auto rec = nnp::mini_run(w4_pipe, d,
                                       nnp::run_options{.run_seed = nnp::seed{w.seed},
                                                        .steps = bench::w4_train_steps,
                                                        .record = true,
                                                        .snapshot_steps = {}});
        const nnp::verdict v = nnp::batch_invariance(w4_pipe, d);
        res.final_loss = rec.loss.back();
        res.accuracy = rec.accuracy.back();
        res.passed = res.passed && v.passed;
        if (!v.passed) std::fprintf(stderr, "W4: %s\n", v.explanation.c_str());
    };
    once();  // warm-up
    for (std::size_t r = 0; r < runs; ++r) {
        const auto t0 = clock_type::now();
        for (std::size_t k = 0; k < reps; ++k) once();
        const auto t1 = clock_type::now();
        res.us.push_back(micros(t1 - t0) / static_cast<double>(reps));
    }
    return res;
}

// The W3 step's five products alone (forward x W1, h W2; backward h^T dy, dy W2^T, x^T dh),
// same shapes, timed like W3 (runs of `steps` repetitions): the floor a W3 step cannot beat
// on this BLAS. Prints the BLAS in use and its GFLOP/s on these products.
void time_w3_products(std::size_t steps, std::size_t runs) {
    struct product {
        bool ta, tb;
        std::size_t m, n, k;
    };
    constexpr std::size_t rows = 64, in = 784, hidden = 256, out = 10;
    constexpr product products[] = {{false, false, rows, hidden, in},
                                    {false, false, rows, out, hidden},
                                    {true, false, hidden, out, rows},
                                    {false, true, rows, hidden, out},
                                    {true, false, in, hidden, rows}};
    std::vector<float> a(in * hidden), b(in * hidden), c(in * hidden);
    nnp::rng r(nnp::seed{5});
    for (auto& v : a) v = static_cast<float>(r.normal());
    for (auto& v : b) v = static_cast<float>(r.normal());
    double flops = 0;
    for (const auto& p : products) flops += 2.0 * static_cast<double>(p.m * p.n * p.k);
    auto once = [&] {
        for (const auto& p : products) nnp::detail::gemm(p.ta, p.tb, p.m, p.n, p.k, a.data(), b.data(), c.data());
    };
    for (std::size_t k = 0; k < 20; ++k) once();  // warm-up
    result res;
    for (std::size_t run = 0; run < runs; ++run) {
        const auto t0 = clock_type::now();
        for (std::size_t k = 0; k < steps; ++k) once();
        res.us.push_back(micros(clock_type::now() - t0) / static_cast<double>(steps));
    }
    const auto& blas = nnp::detail::blas_in_use();
    std::printf("{\"impl\": \"nnprobe\", \"workload\": \"blas\", \"library\": \"%s\", \"kernel\": \"%s\", "
                "\"detected\": \"%s\", \"switched\": %s, \"advice\": \"%s\", \"sgemm_floor_us\": %.6g, "
                "\"runs_us\": [",
                blas.library.c_str(), blas.kernel.c_str(), blas.detected.c_str(), blas.switched ? "true" : "false",
                blas.advice.c_str(), res.median());
    for (std::size_t i = 0; i < res.us.size(); ++i) std::printf("%s%.6g", i ? ", " : "", res.us[i]);
    std::printf("], \"sgemm_gflops\": %.4g}\n", flops / res.median() / 1e3);
    std::fflush(stdout);
}

// ---- export for the peers ----------------------------------------------------------------

void write_raw(const std::string& path, const void* p, std::size_t bytes) {
    std::ofstream f(path, std::ios::binary);
    f.write(static_cast<const char*>(p), static_cast<std::streamsize>(bytes));
    if (!f) throw std::runtime_error("cannot write " + path);
}

// Writes X (float32, row-major), y (int32) and the model's initial parameters, and returns
// the manifest fields naming them. Dense weights are (in x out), row-major, as nnprobe
// stores them; biases follow.
template <class Net, class DS>
std::string export_case(const std::string& dir, const std::string& tag, const Net& net, const DS& d,
                        std::uint64_t seed) {
    std::string fields;
    const std::size_t n = d.x.shape()[0], f = d.x.shape()[1];
    write_raw(dir + "/" + tag + "_x.f32", d.x.data(), n * f * sizeof(float));
    std::vector<std::int32_t> y(d.y.begin(), d.y.end());
    write_raw(dir + "/" + tag + "_y.i32", y.data(), y.size() * sizeof(std::int32_t));
    fields += " rows " + std::to_string(n) + " features " + std::to_string(f) + " x " + tag +
              "_x.f32 y " + tag + "_y.i32";
    auto m = nnp::make_model(net, nnp::seed{seed});
    std::size_t k = 0;
    for (const auto& p : m.params()) {
        const std::string name = tag + "_p" + std::to_string(k) + ".f32";
        write_raw(dir + "/" + name, p.value, p.size * sizeof(float));
        fields += " p" + std::to_string(k) + " " + name;
        ++k;
    }
    fields += " params " + std::to_string(k);
    return fields;
}

// W7: every sample's ids padded to the maximum length (int32, samples x max_len), lengths,
// labels, the batches (int32, batches x batch: sample indices in step order; each batch is
// padded to its own longest sample), the sinusoidal table (max_len x width) and the initial
// parameters in nnprobe's order and layout: embedding (vocab x width), attention in-projection
// (width x 3 width: q, k, v columns) and its bias, out-projection (width x width) and its bias,
// layer-norm gain and bias, dense (in x out) and bias, head (in x out) and bias.
std::string export_w7(const std::string& dir, std::uint64_t seed) {
    const auto d = bench::w7_data();
    const std::size_t n = d.size(), len = bench::w7_max_len;
    std::vector<std::int32_t> tokens(n * len, 0), lengths(n), y(n);
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t t = 0; t < d.tokens[i].size(); ++t) tokens[i * len + t] = static_cast<std::int32_t>(d.tokens[i][t]);
        lengths[i] = static_cast<std::int32_t>(d.tokens[i].size());
        y[i] = d.labels[i];
    }
    std::vector<std::int32_t> order;
    const auto batches = bench::w7_batches(d);
    for (const auto& b : batches)
        for (std::size_t i : b.samples) order.push_back(static_cast<std::int32_t>(i));
    write_raw(dir + "/W7_tokens.i32", tokens.data(), tokens.size() * sizeof(std::int32_t));
    write_raw(dir + "/W7_lengths.i32", lengths.data(), lengths.size() * sizeof(std::int32_t));
    write_raw(dir + "/W7_y.i32", y.data(), y.size() * sizeof(std::int32_t));
    write_raw(dir + "/W7_order.i32", order.data(), order.size() * sizeof(std::int32_t));
    auto m = nnp::make_model(bench::w7_net, nnp::seed{seed});
    if (m.node(2).layer != "positional_encoding") throw std::runtime_error("W7: node 2 is not the positional encoding");
    const auto& pe = m.layer<2>().pe;
    write_raw(dir + "/W7_pe.f32", pe.data(), pe.size() * sizeof(float));
    std::string fields = " rows " + std::to_string(n) + " vocab " + std::to_string(bench::w7_vocab) + " max_len " +
                         std::to_string(len) + " width " + std::to_string(bench::w7_width) + " heads " +
                         std::to_string(bench::w7_heads) + " batch " + std::to_string(bench::w7_batch) +
                         " batches " + std::to_string(batches.size()) +
                         " tokens W7_tokens.i32 lengths W7_lengths.i32 y W7_y.i32 order W7_order.i32 pe W7_pe.f32";
    std::size_t k = 0;
    for (const auto& p : m.params()) {
        const std::string name = "W7_p" + std::to_string(k) + ".f32";
        write_raw(dir + "/" + name, p.value, p.size * sizeof(float));
        fields += " p" + std::to_string(k) + " " + name;
        ++k;
    }
    return fields + " params " + std::to_string(k);
}

void export_all(const std::string& dir, const std::string& data_dir) {
    const auto d1 = bench::w1_data(data_dir);
    const auto d2 = bench::w2_data(data_dir);
    const auto d3 = bench::w3_data();
    std::ofstream man(dir + "/manifest.txt");
    auto head = [](const bench::workload& w, std::size_t hidden, std::size_t classes) {
        char lr[32];
        std::snprintf(lr, sizeof lr, "%.17g", w.lr);
        return std::string(w.id) + " hidden " + std::to_string(hidden) + " classes " +
               std::to_string(classes) + " opt " + w.opt + " lr " + lr + " steps " +
               std::to_string(w.steps) + " smoke_steps " + std::to_string(w.smoke_steps) +
               " seed " + std::to_string(w.seed);
    };
    const auto& W = bench::workloads;
    man << head(W[0], 16, 3) << export_case(dir, "W1", bench::w1_net, d1, W[0].seed) << "\n";
    man << head(W[1], 128, 10) << export_case(dir, "W2", bench::w2_net, d2, W[1].seed) << "\n";
    man << head(W[2], 256, 10) << export_case(dir, "W3", bench::w3_net, d3, W[2].seed) << "\n";
    // W5, W6: the CNNs. Conv weights are PyTorch's (out, in, 3, 3), row-major, then the bias.
    man << head(W[4], 0, 10) << " cnn 1 channels 1 height 8 width 8 c1 8 c2 16 pad 1"
        << export_case(dir, "W5", bench::w5_net, bench::w5_data(data_dir), W[4].seed) << "\n";
    man << head(W[5], 0, 10) << " cnn 1 channels 3 height 32 width 32 c1 32 c2 64 pad 0"
        << export_case(dir, "W6", bench::w6_net, bench::w6_data(), W[5].seed) << "\n";
    man << head(W[6], 32, 2) << export_w7(dir, W[6].seed) << "\n";
    // W4: the recorded run is W1's data and weights; the invariance part is the probe's own
    // subset, model (run seed 1), warm-up and shuffle, exactly as batch_invariance builds them.
    const nnp::probe_options o{};
    const auto sub = nnp::detail::probe_subset(d1, o);
    std::vector<std::int32_t> perm(sub.size());
    std::iota(perm.begin(), perm.end(), 0);
    nnp::rng(o.run_seed).fork(0x5eed).shuffle(perm.begin(), perm.end());
    write_raw(dir + "/W4_perm.i32", perm.data(), perm.size() * sizeof(std::int32_t));
    char tol[32];
    std::snprintf(tol, sizeof tol, "%.17g", nnp::detail::invariance_tolerance<float>());
    man << head(W[3], 16, 3) << " train_steps " << bench::w4_train_steps
        << export_case(dir, "W4", bench::w1_net, d1, W[3].seed) << "\n";
    std::string inv = export_case(dir, "W4inv", bench::w1_net, sub, o.run_seed.value);
    man << "W4inv hidden 16 classes 3 opt adam lr " << W[3].lr << " warmup " << o.invariance_warmup
        << " perm W4_perm.i32 tol " << tol << inv << "\n";
    if (!man) throw std::runtime_error("cannot write " + dir + "/manifest.txt");
}

// ---- smoke expectations ------------------------------------------------------------------

// What the smoke steps of each workload give for its seed (OPENBLAS_NUM_THREADS=1; another
// CPU kernel may change the last bits, hence the tolerance).
struct expectation {
    const char* id;
    double loss;
    double accuracy;
};
constexpr expectation expected[] = {
    {"W1", 0.373093396, 27.0 / 32},
    {"W2", 1.08633053, 49.0 / 64},
    {"W3", 1.13858581, 52.0 / 64},
    {"W4", 0.373093396, 27.0 / 32},
    {"W5", 2.32535195, 4.0 / 64},
    {"W6", 2.74465966, 7.0 / 32},
    {"W7", 0.737021625, 264.0 / 512},
};

void print_json(const result& r, const char* unit) {
    std::printf("{\"impl\": \"nnprobe\", \"workload\": \"%s\", \"unit\": \"%s\", \"us\": %.6g, "
                "\"runs_us\": [",
                r.id.c_str(), unit, r.median());
    for (std::size_t i = 0; i < r.us.size(); ++i) std::printf("%s%.6g", i ? ", " : "", r.us[i]);
    std::printf("], \"steps\": %zu, \"final_loss\": %.9g, \"accuracy\": %.9g, \"passed\": %s, \"peak_rss_kb\": %ld}\n",
                r.steps, r.final_loss, r.accuracy, r.passed ? "true" : "false", peak_rss_kb());
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t runs = 5, steps_override = 0;
    bool smoke = false;
    std::string only, export_dir, data_dir = NNP_DATA_DIR;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "nnprobe_bench: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--runs") runs = std::stoul(value());
        else if (a == "--workload") only = value();
        else if (a == "--steps") steps_override = std::stoul(value());  // for profiling
        else if (a == "--export") export_dir = value();
        else if (a == "--data-dir") data_dir = value();
        else if (a == "--smoke") smoke = true;
        else {
            std::fprintf(stderr,
                         "usage: nnprobe_bench [--runs N] [--workload W1,W2,...] [--steps N] [--smoke] "
                         "[--export DIR] [--data-dir DIR]\n");
            return 2;
        }
    }
    try {
        if (!export_dir.empty()) {
            export_all(export_dir, data_dir);
            return 0;
        }
        if (smoke) runs = 1;
        auto wanted = [&](const char* id) { return only.empty() || only.find(id) != std::string::npos; };
        auto steps_of = [&](const bench::workload& w) {
            return steps_override ? steps_override : smoke ? w.smoke_steps : w.steps;
        };
        const auto& W = bench::workloads;
        std::vector<result> results;
        if (wanted("W1") || wanted("W4")) {
            const auto d1 = bench::w1_data(data_dir);
            if (wanted("W1")) {
                results.push_back(time_training(W[0], bench::w1_net, d1, nnp::adam{.lr = W[0].lr},
                                                steps_of(W[0]), runs));
                print_json(results.back(), "us/step");
            }
            if (wanted("W4")) {
                results.push_back(time_w4(W[3], d1, steps_of(W[3]), runs));
                print_json(results.back(), "us/probe");
            }
        }
        if (wanted("W2")) {
            results.push_back(time_training(W[1], bench::w2_net, bench::w2_data(data_dir),
                                            nnp::adam{.lr = W[1].lr}, steps_of(W[1]), runs));
            print_json(results.back(), "us/step");
        }
        if (wanted("W3")) {
            results.push_back(time_training(W[2], bench::w3_net, bench::w3_data(),
                                            nnp::sgd{.lr = W[2].lr}, steps_of(W[2]), runs));
            print_json(results.back(), "us/step");
        }
        if (!smoke && (wanted("W3") || wanted("blas"))) time_w3_products(steps_of(W[2]), runs);
        if (wanted("W5")) {
            results.push_back(time_training(W[4], bench::w5_net, bench::w5_data(data_dir),
                                            nnp::adam{.lr = W[4].lr}, steps_of(W[4]), runs));
            print_json(results.back(), "us/step");
        }
        if (wanted("W6")) {
            results.push_back(time_training(W[5], bench::w6_net, bench::w6_data(),
                                            nnp::sgd{.lr = W[5].lr}, steps_of(W[5]), runs));
            print_json(results.back(), "us/step");
        }
        if (wanted("W7")) {
            results.push_back(time_w7(W[6], bench::w7_batches(bench::w7_data()), steps_of(W[6]), runs));
            print_json(results.back(), "us/step");
        }
        if (!smoke) return 0;

        // The smoke checks: right losses and accuracies for the seed, a passing invariance
        // probe, and W4's recorded run equal to W1's first 20 steps (same model, data, seed).
        int bad = 0;
        double w1_loss = NAN, w4_loss = NAN;
        for (const auto& r : results) {
            if (r.id == "W1") w1_loss = r.final_loss;
            if (r.id == "W4") w4_loss = r.final_loss;
            for (const auto& e : expected) {
                if (r.id != e.id) continue;
                const bool loss_ok = std::abs(r.final_loss - e.loss) <= 1e-3 * std::max(1.0, std::abs(e.loss));
                const bool acc_ok = std::abs(r.accuracy - e.accuracy) < 1e-9;
                if (!loss_ok || !acc_ok || !r.passed || !std::isfinite(r.final_loss)) {
                    std::fprintf(stderr, "FAIL %s: loss %.9g (expected %.9g), accuracy %.9g (expected %.9g)%s\n",
                                 e.id, r.final_loss, e.loss, r.accuracy, e.accuracy,
                                 r.passed ? "" : ", batch invariance failed");
                    ++bad;
                }
            }
        }
        if (std::isfinite(w1_loss) && std::isfinite(w4_loss) &&
            std::abs(w1_loss - w4_loss) > 1e-6 * std::max(1.0, std::abs(w1_loss))) {
            std::fprintf(stderr, "FAIL W4's recorded run ends at loss %.9g, W1's first 20 steps at %.9g\n",
                         w4_loss, w1_loss);
            ++bad;
        }
        std::printf("smoke: %s\n", bad ? "FAILED" : "ok");
        return bad ? 1 : 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "nnprobe_bench: %s\n", e.what());
        return 1;
    }
}

// libtorch's side of the benchmarks (Debian's libtorch-dev): the C++ user's alternative to
// nnprobe, on the same workloads as nnprobe_bench, read from its export.
//
//   libtorch_bench --data DIR [--runs N] [--workload W1,...] [--smoke]
//
// The same data, initial weights, optimisers, learning rates and step counts as torch_bench.py
// (PyTorch from Python), written against the C++ API; one thread (torch::set_num_threads(1)).
// One JSON line per workload, as nnprobe_bench prints them.
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "timing.hpp"

namespace {

using fields = std::map<std::string, std::string>;

std::map<std::string, fields> read_manifest(const std::string& dir) {
    std::ifstream f(dir + "/manifest.txt");
    if (!f) throw std::runtime_error("cannot read " + dir + "/manifest.txt");
    std::map<std::string, fields> out;
    std::string line;
    while (std::getline(f, line)) {
        std::istringstream in(line);
        std::string id, k, v;
        if (!(in >> id)) continue;
        fields& fs = out[id];
        while (in >> k >> v) fs[k] = v;
    }
    return out;
}

torch::Tensor raw(const std::string& path, torch::Dtype dtype, std::vector<int64_t> shape) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot read " + path);
    std::vector<char> buf((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    int64_t n = 1;
    for (const auto d : shape) n *= d;
    if (static_cast<int64_t>(buf.size()) != n * static_cast<int64_t>(torch::elementSize(dtype)))
        throw std::runtime_error(path + ": " + std::to_string(buf.size()) + " bytes, not the expected shape");
    return torch::from_blob(buf.data(), shape, dtype).clone();
}

std::size_t num(const fields& f, const std::string& k) { return std::stoul(f.at(k)); }

// W1-W4: Linear-ReLU-Linear with nnprobe's initial weights (libtorch stores W as out x in).
struct mlp_case {
    torch::Tensor x, y;
    std::vector<torch::Tensor> params;
    int64_t rows, features, hidden, classes;
    mlp_case(const std::string& d, const fields& f) {
        rows = num(f, "rows"), features = num(f, "features"), hidden = num(f, "hidden"),
        classes = num(f, "classes");
        x = raw(d + "/" + f.at("x"), torch::kFloat32, {rows, features});
        y = raw(d + "/" + f.at("y"), torch::kInt32, {rows}).to(torch::kLong);
        const std::vector<std::vector<int64_t>> shapes = {{features, hidden}, {hidden}, {hidden, classes}, {classes}};
        for (std::size_t k = 0; k < shapes.size(); ++k)
            params.push_back(raw(d + "/" + f.at("p" + std::to_string(k)), torch::kFloat32, shapes[k]));
    }
};

struct mlp : torch::nn::Module {
    torch::nn::Linear l1{nullptr}, l2{nullptr};
    explicit mlp(const mlp_case& c) {
        l1 = register_module("l1", torch::nn::Linear(c.features, c.hidden));
        l2 = register_module("l2", torch::nn::Linear(c.hidden, c.classes));
        torch::NoGradGuard g;
        l1->weight.copy_(c.params[0].t());
        l1->bias.copy_(c.params[1]);
        l2->weight.copy_(c.params[2].t());
        l2->bias.copy_(c.params[3]);
    }
    torch::Tensor forward(const torch::Tensor& x) { return l2(torch::relu(l1(x))); }
};

// W5/W6: conv 3x3, relu, max pool 2, conv 3x3, relu, global average pool, dense.
struct cnn_case {
    torch::Tensor x, y;
    std::vector<torch::Tensor> params;
    int64_t rows, c, h, w, c1, c2, pad, classes;
    cnn_case(const std::string& d, const fields& f) {
        rows = num(f, "rows"), c = num(f, "channels"), h = num(f, "height"), w = num(f, "width");
        c1 = num(f, "c1"), c2 = num(f, "c2"), pad = num(f, "pad"), classes = num(f, "classes");
        x = raw(d + "/" + f.at("x"), torch::kFloat32, {rows, c, h, w});
        y = raw(d + "/" + f.at("y"), torch::kInt32, {rows}).to(torch::kLong);
        const std::vector<std::vector<int64_t>> shapes = {{c1, c, 3, 3}, {c1}, {c2, c1, 3, 3}, {c2}, {c2, classes}, {classes}};
        for (std::size_t k = 0; k < shapes.size(); ++k)
            params.push_back(raw(d + "/" + f.at("p" + std::to_string(k)), torch::kFloat32, shapes[k]));
    }
};

struct cnn : torch::nn::Module {
    torch::nn::Conv2d k1{nullptr}, k2{nullptr};
    torch::nn::Linear out{nullptr};
    explicit cnn(const cnn_case& c) {
        k1 = register_module("k1", torch::nn::Conv2d(torch::nn::Conv2dOptions(c.c, c.c1, 3).padding(c.pad)));
        k2 = register_module("k2", torch::nn::Conv2d(torch::nn::Conv2dOptions(c.c1, c.c2, 3).padding(c.pad)));
        out = register_module("out", torch::nn::Linear(c.c2, c.classes));
        torch::NoGradGuard g;
        k1->weight.copy_(c.params[0]);
        k1->bias.copy_(c.params[1]);
        k2->weight.copy_(c.params[2]);
        k2->bias.copy_(c.params[3]);
        out->weight.copy_(c.params[4].t());
        out->bias.copy_(c.params[5]);
    }
    torch::Tensor forward(const torch::Tensor& x) {
        auto a = torch::max_pool2d(torch::relu(k1(x)), 2);
        return out(torch::relu(k2(a)).mean({2, 3}));
    }
};

std::unique_ptr<torch::optim::Optimizer> optimiser(const std::string& name, std::vector<torch::Tensor> params,
                                                   double lr) {
    if (name == "adam")
        return std::make_unique<torch::optim::Adam>(
            params, torch::optim::AdamOptions(lr).betas({0.9, 0.999}).eps(1e-8).weight_decay(0));
    return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(lr));
}

template <class M>
float train_step(M& m, torch::optim::Optimizer& opt, const torch::Tensor& x, const torch::Tensor& y) {
    opt.zero_grad();
    const torch::Tensor loss = torch::nn::functional::cross_entropy(m.forward(x), y);
    loss.backward();
    opt.step();
    return loss.item<float>();  // the loss value every step, as nnprobe's trainer::step returns it
}

// W7: the sequence classifier, as torch_bench.py's SeqModel: Embedding (padding_idx 0) + the
// sinusoidal table -> MultiheadAttention (key_padding_mask) + residual -> LayerNorm -> Linear +
// ReLU per position -> mean over each sample's real positions -> Linear. The C++
// MultiheadAttention takes (length, batch, width): the input is transposed in and out.
struct seq_batch {
    torch::Tensor tokens, pad, keep, lengths, y;
};
struct seq_case {
    int64_t rows, max_len, width, heads, vocab, hidden, classes;
    torch::Tensor pe;
    std::vector<torch::Tensor> params;
    std::vector<seq_batch> batches;
    seq_case(const std::string& d, const fields& f) {
        rows = num(f, "rows"), max_len = num(f, "max_len"), width = num(f, "width"), heads = num(f, "heads");
        vocab = num(f, "vocab"), hidden = num(f, "hidden"), classes = num(f, "classes");
        const int64_t batch = num(f, "batch"), count = num(f, "batches");
        const auto tokens = raw(d + "/" + f.at("tokens"), torch::kInt32, {rows, max_len}).to(torch::kLong);
        const auto lengths = raw(d + "/" + f.at("lengths"), torch::kInt32, {rows}).to(torch::kLong);
        const auto y = raw(d + "/" + f.at("y"), torch::kInt32, {rows}).to(torch::kLong);
        const auto order = raw(d + "/" + f.at("order"), torch::kInt32, {count, batch}).to(torch::kLong);
        pe = raw(d + "/" + f.at("pe"), torch::kFloat32, {max_len, width});
        const int64_t w = width, h = hidden, c = classes;
        const std::vector<std::vector<int64_t>> shapes = {{vocab, w}, {w, 3 * w}, {3 * w}, {w, w}, {w}, {w},
                                                          {w},        {w, h},     {h},     {h, c}, {c}};
        if (num(f, "params") != shapes.size()) throw std::runtime_error("W7: unexpected parameter count");
        for (std::size_t k = 0; k < shapes.size(); ++k)
            params.push_back(raw(d + "/" + f.at("p" + std::to_string(k)), torch::kFloat32, shapes[k]));
        for (int64_t b = 0; b < count; ++b) {
            const auto idx = order[b];
            const auto n = lengths.index_select(0, idx);
            const int64_t length = n.max().item<int64_t>();
            const auto pad = torch::arange(length, torch::kLong).unsqueeze(0) >= n.unsqueeze(1);
            batches.push_back({tokens.index_select(0, idx).slice(1, 0, length).contiguous(), pad,
                               pad.logical_not().unsqueeze(-1).to(torch::kFloat32),
                               n.unsqueeze(1).to(torch::kFloat32), y.index_select(0, idx)});
        }
    }
};

struct seq_model : torch::nn::Module {
    torch::nn::Embedding emb{nullptr};
    torch::nn::MultiheadAttention att{nullptr};
    torch::nn::LayerNorm norm{nullptr};
    torch::nn::Linear dense{nullptr}, head{nullptr};
    torch::Tensor pe;
    explicit seq_model(const seq_case& c) {
        emb = register_module("emb", torch::nn::Embedding(torch::nn::EmbeddingOptions(c.vocab, c.width).padding_idx(0)));
        att = register_module("att", torch::nn::MultiheadAttention(c.width, c.heads));
        norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.width})));
        dense = register_module("dense", torch::nn::Linear(c.width, c.hidden));
        head = register_module("head", torch::nn::Linear(c.hidden, c.classes));
        pe = register_buffer("pe", c.pe.clone());
        torch::NoGradGuard g;  // nnprobe stores (in x out); libtorch (out x in)
        const auto& p = c.params;
        emb->weight.copy_(p[0]);
        att->in_proj_weight.copy_(p[1].t());
        att->in_proj_bias.copy_(p[2]);
        att->out_proj->weight.copy_(p[3].t());
        att->out_proj->bias.copy_(p[4]);
        norm->weight.copy_(p[5]);
        norm->bias.copy_(p[6]);
        dense->weight.copy_(p[7].t());
        dense->bias.copy_(p[8]);
        head->weight.copy_(p[9].t());
        head->bias.copy_(p[10]);
    }
    torch::Tensor forward(const seq_batch& b) {
        const auto x = emb(b.tokens) + pe.slice(0, 0, b.tokens.size(1));
        const auto xt = x.transpose(0, 1);
        const auto a = std::get<0>(att(xt, xt, xt, b.pad, /*need_weights=*/false)).transpose(0, 1);
        const auto h = torch::relu(dense(norm(x + a)));
        return head((h * b.keep).sum(1) / b.lengths);
    }
};

result time_sequences(const std::string& id, const seq_case& c, const fields& f, std::size_t steps,
                      std::size_t runs) {
    result res;
    res.id = id;
    res.steps = steps;
    const double lr = std::stod(f.at("lr"));
    auto one_run = [&](std::size_t n, bool record) {
        seq_model m(c);
        auto opt = optimiser(f.at("opt"), m.parameters(), lr);
        float loss = 0;
        const auto t0 = clock_type::now();
        for (std::size_t k = 0; k < n; ++k) {
            const auto& b = c.batches[k % c.batches.size()];
            opt->zero_grad();
            const torch::Tensor l = torch::nn::functional::cross_entropy(m.forward(b), b.y);
            l.backward();
            opt->step();
            loss = l.item<float>();
        }
        const auto t1 = clock_type::now();
        if (!record) return;
        res.us.push_back(micros(t1 - t0) / static_cast<double>(n));
        res.final_loss = loss;
        m.eval();
        torch::NoGradGuard g;
        double hit = 0, total = 0;
        for (const auto& b : c.batches) {
            hit += (m.forward(b).argmax(1) == b.y).sum().item<double>();
            total += static_cast<double>(b.y.size(0));
        }
        res.accuracy = hit / total;
    };
    one_run(std::min<std::size_t>(steps, 20), false);  // warm-up
    for (std::size_t r = 0; r < runs; ++r) one_run(steps, true);
    return res;
}

template <class Model, class Case>
result time_training(const std::string& id, const Case& c, const fields& f, std::size_t steps, std::size_t runs) {
    result res;
    res.id = id;
    res.steps = steps;
    const double lr = std::stod(f.at("lr"));
    auto one_run = [&](std::size_t n, bool record) {
        Model m(c);
        auto opt = optimiser(f.at("opt"), m.parameters(), lr);
        float loss = 0;
        const auto t0 = clock_type::now();
        for (std::size_t k = 0; k < n; ++k) loss = train_step(m, *opt, c.x, c.y);
        const auto t1 = clock_type::now();
        if (!record) return;
        res.us.push_back(micros(t1 - t0) / static_cast<double>(n));
        res.final_loss = loss;
        torch::NoGradGuard g;
        const torch::Tensor hit = m.forward(c.x).argmax(1) == c.y;
        res.accuracy = hit.to(torch::kFloat32).mean().item<float>();
    };
    one_run(std::min<std::size_t>(steps, 20), false);  // warm-up
    for (std::size_t r = 0; r < runs; ++r) one_run(steps, true);
    return res;
}

// One W4 probe, as torch_bench.py's run_w4: 20 recorded Adam steps (per-tensor gradient,
// weight and update norms, non-finite counts of every node's output and gradient), then batch
// invariance: 3 warm-up steps, every node's outputs for the batch, each sample alone, the batch
// shuffled.
struct w4_case {
    mlp_case train, inv;
    std::size_t train_steps, warmup;
    double lr, tol;
    torch::Tensor perm;
};

bool run_w4(const w4_case& w, float& loss_out, float& acc_out) {
    mlp m(w.train);
    auto opt = optimiser("adam", m.parameters(), w.lr);
    std::vector<std::vector<double>> series(4 * 7);
    float loss_v = 0, acc = 0;
    long nonfinite = 0;
    for (std::size_t s = 0; s < w.train_steps; ++s) {
        opt->zero_grad();
        auto h = m.l1(w.train.x);
        auto a = torch::relu(h);
        auto out = m.l2(a);
        for (auto* t : {&h, &a, &out}) t->retain_grad();
        auto loss = torch::nn::functional::cross_entropy(out, w.train.y);
        loss.backward();
        loss_v = loss.item<float>();
        acc = (out.argmax(1) == w.train.y).to(torch::kFloat32).mean().item<float>();
        for (auto* t : {&h, &a, &out})
            nonfinite += (~torch::isfinite(*t)).sum().item<long>() + (~torch::isfinite(t->grad())).sum().item<long>();
        std::vector<torch::Tensor> before;
        auto params = m.parameters();
        {
            torch::NoGradGuard g;
            for (std::size_t i = 0; i < params.size(); ++i) {
                auto& p = params[i];
                series[i * 7 + 0].push_back(p.grad().norm().item<double>());
                series[i * 7 + 1].push_back(p.grad().abs().max().item<double>());
                series[i * 7 + 2].push_back(p.norm().item<double>());
                series[i * 7 + 3].push_back(p.abs().max().item<double>());
                before.push_back(p.detach().clone());
            }
        }
        opt->step();
        torch::NoGradGuard g;
        for (std::size_t i = 0; i < params.size(); ++i) {
            auto d = params[i] - before[i];
            series[i * 7 + 4].push_back(d.norm().item<double>());
            series[i * 7 + 5].push_back(d.abs().max().item<double>());
            const double wn = series[i * 7 + 2].back();
            series[i * 7 + 6].push_back(wn > 0 ? series[i * 7 + 4].back() / wn : 0.0);
        }
    }
    loss_out = nonfinite == 0 ? loss_v : NAN;
    acc_out = acc;

    mlp mi(w.inv);
    auto opt2 = optimiser("adam", mi.parameters(), w.lr);
    for (std::size_t s = 0; s < w.warmup; ++s) train_step(mi, *opt2, w.inv.x, w.inv.y);
    torch::NoGradGuard g;
    auto nodes = [&](const torch::Tensor& x) {
        auto h = mi.l1(x);
        auto a = torch::relu(h);
        return std::vector<torch::Tensor>{x, h, a, mi.l2(a)};
    };
    const auto ref = nodes(w.inv.x);
    std::vector<double> scale;
    for (const auto& r : ref) scale.push_back(std::max(1.0, r.abs().max().item<double>()));
    auto agree = [&](const std::vector<torch::Tensor>& outs, const torch::Tensor& rows, const torch::Tensor& samples) {
        for (std::size_t i = 0; i < outs.size(); ++i) {
            auto d = (outs[i].index_select(0, rows) - ref[i].index_select(0, samples)).abs();
            const double worst = d.isnan().any().item<bool>() ? INFINITY : d.max().item<double>();
            if (worst > w.tol * scale[i]) return false;
        }
        return true;
    };
    const int64_t n = w.inv.rows;
    const auto zero = torch::zeros({1}, torch::kLong);
    for (int64_t s = 0; s < n; ++s)
        if (!agree(nodes(w.inv.x.slice(0, s, s + 1)), zero, torch::full({1}, s, torch::kLong))) return false;
    return agree(nodes(w.inv.x.index_select(0, w.perm)), torch::arange(n, torch::kLong), w.perm);
}

result time_w4(const w4_case& w, std::size_t reps, std::size_t runs) {
    result res;
    res.id = "W4";
    res.steps = reps;
    auto once = [&] {
        float loss = 0, acc = 0;
        const bool ok = run_w4(w, loss, acc);
        res.final_loss = loss;
        res.accuracy = acc;
        res.passed = res.passed && ok;
    };
    once();  // warm-up
    for (std::size_t r = 0; r < runs; ++r) {
        const auto t0 = clock_type::now();
        for (std::size_t k = 0; k < reps; ++k) once();
        res.us.push_back(micros(clock_type::now() - t0) / static_cast<double>(reps));
    }
    return res;
}

void print_json(const result& r, const char* unit) {
    std::printf("{\"impl\": \"libtorch\", \"workload\": \"%s\", \"unit\": \"%s\", \"us\": %.6g, \"runs_us\": [",
                r.id.c_str(), unit, r.median());
    for (std::size_t i = 0; i < r.us.size(); ++i) std::printf("%s%.6g", i ? ", " : "", r.us[i]);
    std::printf("], \"steps\": %zu, \"final_loss\": %.9g, \"accuracy\": %.9g, \"passed\": %s, \"peak_rss_kb\": %ld}\n",
                r.steps, r.final_loss, r.accuracy, r.passed ? "true" : "false", peak_rss_kb());
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    std::string data, only;
    std::size_t runs = 5;
    bool smoke = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--data" && i + 1 < argc) data = argv[++i];
        else if (a == "--runs" && i + 1 < argc) runs = std::stoul(argv[++i]);
        else if (a == "--workload" && i + 1 < argc) only = argv[++i];
        else if (a == "--smoke") smoke = true;
        else {
            std::fprintf(stderr, "usage: libtorch_bench --data DIR [--runs N] [--workload W1,...] [--smoke]\n");
            return 2;
        }
    }
    if (data.empty()) {
        std::fprintf(stderr, "libtorch_bench: --data DIR (the output of nnprobe_bench --export DIR) is required\n");
        return 2;
    }
    try {
        torch::set_num_threads(1);
        const auto man = read_manifest(data);
        if (smoke) runs = 1;
        auto wanted = [&](const char* id) { return only.empty() || only.find(id) != std::string::npos; };
        auto steps = [&](const fields& f) { return num(f, smoke ? "smoke_steps" : "steps"); };
        if (wanted("W1")) {
            const auto& f = man.at("W1");
            print_json(time_training<mlp>("W1", mlp_case(data, f), f, steps(f), runs), "us/step");
        }
        if (wanted("W4")) {
            const auto &f = man.at("W4"), &fi = man.at("W4inv");
            mlp_case inv(data, fi);
            const w4_case w{mlp_case(data, f), inv, num(f, "train_steps"), num(fi, "warmup"), std::stod(f.at("lr")),
                            std::stod(fi.at("tol")),
                            raw(data + "/" + fi.at("perm"), torch::kInt32, {inv.rows}).to(torch::kLong)};
            print_json(time_w4(w, steps(f), runs), "us/probe");
        }
        for (const char* id : {"W2", "W3"})
            if (wanted(id)) {
                const auto& f = man.at(id);
                print_json(time_training<mlp>(id, mlp_case(data, f), f, steps(f), runs), "us/step");
            }
        for (const char* id : {"W5", "W6"})
            if (wanted(id) && man.count(id)) {
                const auto& f = man.at(id);
                print_json(time_training<cnn>(id, cnn_case(data, f), f, steps(f), runs), "us/step");
            }
        if (wanted("W7") && man.count("W7")) {
            const auto& f = man.at("W7");
            print_json(time_sequences("W7", seq_case(data, f), f, steps(f), runs), "us/step");
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "libtorch_bench: %s\n", e.what());
        return 1;
    }
}

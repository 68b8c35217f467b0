// dlib's side of the benchmarks: the same workloads as nnprobe_bench,
// read from its export (same data, same initial weights, same optimiser settings and step
// counts), trained with dlib's dnn layers in a hand-written loop (compute_parameter_gradients
// + update_parameters with one solver per layer, as dnn_trainer does inside, without its
// threads and bookkeeping). Adam is dlib's adam(weight_decay = 0, 0.9, 0.999): plain Adam;
// SGD is dlib's sgd(weight_decay = 0, momentum = 0): plain SGD.
//
//   dlib_bench --data DIR [--runs N] [--workload W1,...] [--smoke]
//
// One JSON line per workload, as nnprobe_bench prints them; W7 (attention) gets a line that
// says dlib has no attention layer, and no figure.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <dlib/dnn.h>
#include <dlib/revision.h>

#include "timing.hpp"

namespace {

using sample_type = dlib::matrix<float, 0, 1>;

// relu-following dense, relu, output dense, softmax cross-entropy.
template <unsigned long H, unsigned long C>
using mlp = dlib::loss_multiclass_log<dlib::fc<C, dlib::relu<dlib::fc<H, dlib::input<sample_type>>>>>;

// ---- the export ------------------------------------------------------------------------

using fields = std::map<std::string, std::string>;

std::map<std::string, fields> read_manifest(const std::string& dir) {
    std::ifstream f(dir + "/manifest.txt");
    if (!f) throw std::runtime_error("cannot read " + dir + "/manifest.txt (run nnprobe_bench --export DIR)");
    std::map<std::string, fields> all;
    std::string line;
    while (std::getline(f, line)) {
        std::istringstream in(line);
        std::string id, k, v;
        if (!(in >> id)) continue;
        while (in >> k >> v) all[id][k] = v;
    }
    return all;
}

template <class T>
std::vector<T> read_raw(const std::string& path, std::size_t n) {
    std::ifstream f(path, std::ios::binary);
    std::vector<T> v(n);
    f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(T)));
    if (!f) throw std::runtime_error("cannot read " + std::to_string(n) + " values from " + path);
    return v;
}

struct case_data {
    std::size_t rows = 0, features = 0, hidden = 0, classes = 0;
    std::vector<float> x;
    std::vector<unsigned long> y;
    std::vector<std::vector<float>> params;  // w0 (in x hidden), b0, w1 (hidden x classes), b1
};

case_data load_case(const std::string& dir, const fields& f, const fields& shape) {
    auto num = [&](const fields& m, const char* k) { return std::stoul(m.at(k)); };
    case_data c;
    c.rows = num(f, "rows");
    c.features = num(f, "features");
    c.hidden = num(shape, "hidden");
    c.classes = num(shape, "classes");
    c.x = read_raw<float>(dir + "/" + f.at("x"), c.rows * c.features);
    const auto y = read_raw<std::int32_t>(dir + "/" + f.at("y"), c.rows);
    c.y.assign(y.begin(), y.end());
    const std::size_t sizes[] = {c.features * c.hidden, c.hidden, c.hidden * c.classes, c.classes};
    for (std::size_t k = 0; k < 4; ++k)
        c.params.push_back(read_raw<float>(dir + "/" + f.at("p" + std::to_string(k)), sizes[k]));
    return c;
}

// ---- a dlib network from the exported case ----------------------------------------------

template <class Net>
void to_tensor(Net& net, const case_data& c, const std::vector<std::size_t>& rows,
               dlib::resizable_tensor& t) {
    std::vector<sample_type> samples(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        samples[i].set_size(static_cast<long>(c.features));
        for (std::size_t j = 0; j < c.features; ++j) samples[i](static_cast<long>(j)) = c.x[rows[i] * c.features + j];
    }
    net.to_tensor(samples.begin(), samples.end(), t);
}
std::vector<std::size_t> all_rows(const case_data& c) {
    std::vector<std::size_t> r(c.rows);
    std::iota(r.begin(), r.end(), std::size_t{0});
    return r;
}

// A dlib fc layer stores (in x out) weights then the bias row in one tensor: nnprobe's layout.
template <class Layer>
void set_fc(Layer& l, const std::vector<float>& w, const std::vector<float>& b) {
    dlib::tensor& p = l.layer_details().get_layer_params();
    if (p.size() != w.size() + b.size()) throw std::runtime_error("dlib fc parameter size mismatch");
    float* h = p.host();
    std::copy(w.begin(), w.end(), h);
    std::copy(b.begin(), b.end(), h + w.size());
}

// Builds the network and loads the exported initial weights (a first forward pass allocates
// dlib's parameters; they are then overwritten).
template <class Net>
void init_net(Net& net, const case_data& c, const dlib::resizable_tensor& x) {
    net.subnet().forward(x);
    set_fc(dlib::layer<3>(net), c.params[0], c.params[1]);  // fc<H>
    set_fc(dlib::layer<1>(net), c.params[2], c.params[3]);  // fc<C>
}

template <class Net>
double accuracy(Net& net, const dlib::resizable_tensor& x, const std::vector<unsigned long>& y) {
    const dlib::tensor& out = net.subnet().forward(x);
    const float* o = out.host();
    const long k = out.k();
    std::size_t hit = 0;
    for (long i = 0; i < out.num_samples(); ++i)
        hit += static_cast<unsigned long>(std::max_element(o + i * k, o + (i + 1) * k) - (o + i * k)) == y[i];
    return static_cast<double>(hit) / static_cast<double>(y.size());
}


template <class Solver>
Solver make_solver() {
    if constexpr (std::is_same_v<Solver, dlib::adam>) return dlib::adam(0.0f, 0.9f, 0.999f);
    else return dlib::sgd(0.0f, 0.0f);
}

// `n` full-batch steps of `net` on (x, labels); with `res`, the step time, final loss and
// accuracy are recorded in it. Shared by the MLP and CNN workloads.
template <class Solver, class Net, class Labels>
void train_steps(Net& net, const dlib::resizable_tensor& x, const Labels& labels, std::size_t n, double lr,
                 result* res) {
    std::vector<Solver> solvers(Net::num_computational_layers, make_solver<Solver>());
    double loss = 0;
    const auto t0 = clock_type::now();
    for (std::size_t k = 0; k < n; ++k) {
        loss = net.compute_parameter_gradients(x, labels.begin());
        net.update_parameters(solvers, lr);
    }
    const auto t1 = clock_type::now();
    if (res) {
        res->us.push_back(micros(t1 - t0) / static_cast<double>(n));
        res->final_loss = loss;
        res->accuracy = accuracy(net, x, labels);
    }
}

// W1-W3: `runs` runs of `steps` full-batch steps from the exported initial weights.
template <unsigned long H, unsigned long C, class Solver>
result time_training(const std::string& id, const case_data& c, const fields& f, std::size_t steps,
                     std::size_t runs) {
    if (c.hidden != H || c.classes != C) throw std::runtime_error(id + ": network shape mismatch");
    const double lr = std::stod(f.at("lr"));
    result res;
    res.id = id;
    res.steps = steps;
    auto one_run = [&](std::size_t n, bool timed) {
        using net_type = mlp<H, C>;
        net_type net;
        dlib::resizable_tensor x;
        to_tensor(net, c, all_rows(c), x);
        init_net(net, c, x);
        train_steps<Solver>(net, x, c.y, n, lr, timed ? &res : nullptr);
    };
    one_run(std::min<std::size_t>(steps, 20), false);  // warm-up
    for (std::size_t r = 0; r < runs; ++r) one_run(steps, true);
    return res;
}

// ---- W5, W6: the CNNs -------------------------------------------------------------------

// conv 3x3 (padding P), relu, max pool 2, conv 3x3, relu, global average pool, dense C.
template <long N, long P, class S>
using conv3 = dlib::add_layer<dlib::con_<N, 3, 3, 1, 1, P, P>, S>;
template <long C1, long C2, long P, unsigned long C>
using cnn = dlib::loss_multiclass_log<dlib::fc<C, dlib::avg_pool_everything<dlib::relu<conv3<C2, P,
            dlib::max_pool<2, 2, 2, 2, dlib::relu<conv3<C1, P, dlib::input<dlib::matrix<float>>>>>>>>>>;

struct cnn_case {
    std::size_t rows = 0, channels = 0, height = 0, width = 0, c1 = 0, c2 = 0, classes = 0;
    std::vector<float> x;
    std::vector<unsigned long> y;
    std::vector<std::vector<float>> params;  // conv1 w (c1, C, 3, 3), b, conv2 w, b, dense w (in x out), b
};

cnn_case load_cnn_case(const std::string& dir, const fields& f) {
    auto num = [&](const char* k) { return std::stoul(f.at(k)); };
    cnn_case c;
    c.rows = num("rows");
    c.channels = num("channels");
    c.height = num("height");
    c.width = num("width");
    c.c1 = num("c1");
    c.c2 = num("c2");
    c.classes = num("classes");
    c.x = read_raw<float>(dir + "/" + f.at("x"), c.rows * c.channels * c.height * c.width);
    const auto y = read_raw<std::int32_t>(dir + "/" + f.at("y"), c.rows);
    c.y.assign(y.begin(), y.end());
    const std::size_t sizes[] = {c.c1 * c.channels * 9, c.c1, c.c2 * c.c1 * 9, c.c2, c.c2 * c.classes, c.classes};
    for (std::size_t k = 0; k < 6; ++k)
        c.params.push_back(read_raw<float>(dir + "/" + f.at("p" + std::to_string(k)), sizes[k]));
    return c;
}

// A dlib con_ layer stores its filters (out, in, rows, cols) and then the biases in one
// tensor: PyTorch's layout, and nnprobe's.
template <class Layer>
void set_params(Layer& l, const std::vector<float>& w, const std::vector<float>& b) {
    dlib::tensor& p = l.layer_details().get_layer_params();
    if (p.size() != w.size() + b.size()) throw std::runtime_error("dlib parameter size mismatch");
    std::copy(w.begin(), w.end(), p.host());
    std::copy(b.begin(), b.end(), p.host() + w.size());
}

template <long C1, long C2, long P, unsigned long C, class Solver>
result time_cnn(const std::string& id, const cnn_case& c, const fields& f, std::size_t steps, std::size_t runs) {
    if (c.c1 != C1 || c.c2 != C2 || c.classes != C) throw std::runtime_error(id + ": network shape mismatch");
    const double lr = std::stod(f.at("lr"));
    result res;
    res.id = id;
    res.steps = steps;
    // The batch as one tensor (N, C, H, W), built directly: dlib's input layer takes one channel.
    dlib::resizable_tensor x(static_cast<long>(c.rows), static_cast<long>(c.channels),
                             static_cast<long>(c.height), static_cast<long>(c.width));
    std::copy(c.x.begin(), c.x.end(), x.host());
    auto one_run = [&](std::size_t n, bool timed) {
        using net_type = cnn<C1, C2, P, C>;
        net_type net;
        // dlib's input layer must have made a tensor once before the network runs on one.
        std::vector<dlib::matrix<float>> one(1, dlib::matrix<float>(static_cast<long>(c.height), static_cast<long>(c.width)));
        dlib::resizable_tensor unused;
        net.to_tensor(one.begin(), one.end(), unused);
        net.subnet().forward(x);  // allocates the parameters, then overwritten
        set_params(dlib::layer<7>(net), c.params[0], c.params[1]);  // conv 1
        set_params(dlib::layer<4>(net), c.params[2], c.params[3]);  // conv 2
        set_params(dlib::layer<1>(net), c.params[4], c.params[5]);  // fc
        train_steps<Solver>(net, x, c.y, n, lr, timed ? &res : nullptr);
    };
    one_run(std::min<std::size_t>(steps, 5), false);  // warm-up
    for (std::size_t r = 0; r < runs; ++r) one_run(steps, true);
    return res;
}

// ---- W4 --------------------------------------------------------------------------------

// What nnprobe's recorders keep per parameter tensor and step.
struct tensor_series {
    std::vector<double> grad_norm, grad_max, weight_norm, weight_max, delta_norm, delta_max, ratio;
    std::vector<float> before;
};

std::size_t count_nonfinite(const dlib::tensor& t) {
    const float* p = t.host();
    std::size_t n = 0;
    for (std::size_t i = 0; i < t.size(); ++i) n += !std::isfinite(p[i]);
    return n;
}

// One W4 probe: 20 recorded Adam steps on the W1 case, then batch invariance on the probe's
// subset: 3 warm-up steps, every node's outputs for the batch, each sample alone, the batch
// shuffled. (dlib runs relu in place over the dense layer's output, so the nodes it can show
// are the input, the relu and the output.)
struct w4_case {
    case_data train, inv;
    std::vector<std::int32_t> perm;
    std::size_t train_steps = 20, warmup = 3;
    double lr = 1e-2, tol = 0;
};

using w1_net = mlp<16, 3>;

struct w4_outcome {
    double loss = NAN, accuracy = NAN;
    bool passed = false;
};

w4_outcome run_w4(const w4_case& w) {
    w4_outcome out;
    {  // the recorded mini-run
        w1_net net;
        dlib::resizable_tensor x;
        to_tensor(net, w.train, all_rows(w.train), x);
        init_net(net, w.train, x);
        std::vector<dlib::adam> solvers(w1_net::num_computational_layers, dlib::adam(0.0f, 0.9f, 0.999f));
        std::vector<tensor_series> series(4);
        std::vector<double> losses, accs;
        std::size_t nonfinite = 0;
        auto layer_params = [&](std::size_t t) -> dlib::tensor& {
            return t < 2 ? dlib::layer<3>(net).layer_details().get_layer_params()
                         : dlib::layer<1>(net).layer_details().get_layer_params();
        };
        auto layer_grads = [&](std::size_t t) -> const dlib::tensor& {
            return t < 2 ? dlib::layer<3>(net).get_parameter_gradient()
                         : dlib::layer<1>(net).get_parameter_gradient();
        };
        // (offset, size) of weight and bias inside each fc's single parameter tensor
        const std::size_t H = w.train.hidden, F = w.train.features, C = w.train.classes;
        const std::size_t off[4] = {0, F * H, 0, H * C}, len[4] = {F * H, H, H * C, C};
        for (std::size_t k = 0; k < w.train_steps; ++k) {
            const double l = net.compute_parameter_gradients(x, w.train.y.begin());
            losses.push_back(l);
            // training accuracy from this step's forward pass
            const dlib::tensor& o = dlib::layer<1>(net).get_output();
            std::size_t hit = 0;
            for (long i = 0; i < o.num_samples(); ++i) {
                const float* r = o.host() + i * o.k();
                hit += static_cast<unsigned long>(std::max_element(r, r + o.k()) - r) == w.train.y[i];
            }
            accs.push_back(static_cast<double>(hit) / static_cast<double>(o.num_samples()));
            nonfinite += count_nonfinite(dlib::layer<1>(net).get_output()) +
                         count_nonfinite(dlib::layer<2>(net).get_output()) +
                         count_nonfinite(dlib::layer<1>(net).get_gradient_input()) +
                         count_nonfinite(dlib::layer<2>(net).get_gradient_input());
            for (std::size_t t = 0; t < 4; ++t) {
                const float* g = layer_grads(t).host() + off[t];
                const float* p = layer_params(t).host() + off[t];
                double g2 = 0, gmax = 0, w2 = 0, wmax = 0;
                for (std::size_t i = 0; i < len[t]; ++i) {
                    g2 += double(g[i]) * g[i];
                    gmax = std::max(gmax, std::abs(double(g[i])));
                    w2 += double(p[i]) * p[i];
                    wmax = std::max(wmax, std::abs(double(p[i])));
                }
                auto& s = series[t];
                s.grad_norm.push_back(std::sqrt(g2));
                s.grad_max.push_back(gmax);
                s.weight_norm.push_back(std::sqrt(w2));
                s.weight_max.push_back(wmax);
                s.before.assign(p, p + len[t]);
            }
            net.update_parameters(solvers, w.lr);
            for (std::size_t t = 0; t < 4; ++t) {
                const float* p = layer_params(t).host() + off[t];
                auto& s = series[t];
                double d2 = 0, dmax = 0;
                for (std::size_t i = 0; i < len[t]; ++i) {
                    const double d = double(p[i]) - s.before[i];
                    d2 += d * d;
                    dmax = std::max(dmax, std::abs(d));
                }
                s.delta_norm.push_back(std::sqrt(d2));
                s.delta_max.push_back(dmax);
                s.ratio.push_back(s.weight_norm.back() > 0 ? std::sqrt(d2) / s.weight_norm.back() : 0.0);
            }
        }
        out.loss = losses.back();
        out.accuracy = accs.back();
        if (nonfinite) out.loss = NAN;
    }
    {  // batch invariance
        w1_net net;
        dlib::resizable_tensor x;
        const auto rows = all_rows(w.inv);
        to_tensor(net, w.inv, rows, x);
        init_net(net, w.inv, x);
        std::vector<dlib::adam> solvers(w1_net::num_computational_layers, dlib::adam(0.0f, 0.9f, 0.999f));
        for (std::size_t k = 0; k < w.warmup; ++k) {
            net.compute_parameter_gradients(x, w.inv.y.begin());
            net.update_parameters(solvers, w.lr);
        }
        // reference outputs of each visible node (input, relu, output) for the whole batch
        net.subnet().forward(x);
        std::vector<std::vector<float>> ref;
        std::vector<double> scale;
        auto keep = [&](const dlib::tensor& t) {
            ref.emplace_back(t.host(), t.host() + t.size());
            double s = 1;
            for (float v : ref.back()) s = std::max(s, double(std::abs(v)));
            scale.push_back(s);
        };
        keep(x);
        keep(dlib::layer<2>(net).get_output());
        keep(dlib::layer<1>(net).get_output());
        auto compare = [&](std::size_t row, std::size_t sample, const dlib::tensor& in) {
            const dlib::tensor* nodes[3] = {&in, &dlib::layer<2>(net).get_output(), &dlib::layer<1>(net).get_output()};
            for (std::size_t i = 0; i < 3; ++i) {
                const std::size_t cols = nodes[i]->size() / static_cast<std::size_t>(nodes[i]->num_samples());
                const float* a = nodes[i]->host() + row * cols;
                const float* b = ref[i].data() + sample * cols;
                double worst = 0;
                for (std::size_t j = 0; j < cols; ++j) {
                    const double d = std::abs(double(a[j]) - b[j]);
                    worst = std::isnan(d) ? INFINITY : std::max(worst, d);
                }
                if (worst > w.tol * scale[i]) return false;
            }
            return true;
        };
        bool ok = true;
        dlib::resizable_tensor one;
        for (std::size_t s = 0; s < w.inv.rows && ok; ++s) {
            to_tensor(net, w.inv, {s}, one);
            net.subnet().forward(one);
            ok = compare(0, s, one);
        }
        if (ok) {
            std::vector<std::size_t> shuffled(w.perm.begin(), w.perm.end());
            dlib::resizable_tensor xs;
            to_tensor(net, w.inv, shuffled, xs);
            net.subnet().forward(xs);
            for (std::size_t r = 0; r < shuffled.size() && ok; ++r) ok = compare(r, shuffled[r], xs);
        }
        out.passed = ok;
    }
    return out;
}

result time_w4(const w4_case& w, std::size_t reps, std::size_t runs) {
    result res;
    res.id = "W4";
    res.steps = reps;
    auto once = [&] {
        const auto o = run_w4(w);
        res.final_loss = o.loss;
        res.accuracy = o.accuracy;
        res.passed = res.passed && o.passed;
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

void print_json(const result& r, const char* unit) {
    std::printf("{\"impl\": \"dlib\", \"workload\": \"%s\", \"unit\": \"%s\", \"us\": %.6g, \"runs_us\": [",
                r.id.c_str(), unit, r.median());
    for (std::size_t i = 0; i < r.us.size(); ++i) std::printf("%s%.6g", i ? ", " : "", r.us[i]);
    std::printf("], \"steps\": %zu, \"final_loss\": %.9g, \"accuracy\": %.9g, \"passed\": %s, \"peak_rss_kb\": %ld}\n", r.steps,
                r.final_loss, r.accuracy, r.passed ? "true" : "false", peak_rss_kb());
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t runs = 5;
    bool smoke = false;
    std::string only, dir;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "dlib_bench: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--runs") runs = std::stoul(value());
        else if (a == "--workload") only = value();
        else if (a == "--data") dir = value();
        else if (a == "--smoke") smoke = true;
        else {
            std::fprintf(stderr, "usage: dlib_bench --data DIR [--runs N] [--workload W1,...] [--smoke]\n");
            return 2;
        }
    }
    if (dir.empty()) {
        std::fprintf(stderr, "dlib_bench: --data DIR is required (the output of nnprobe_bench --export DIR)\n");
        return 2;
    }
    try {
        const auto man = read_manifest(dir);
        if (smoke) runs = 1;
        auto wanted = [&](const char* id) { return only.empty() || only.find(id) != std::string::npos; };
        auto steps_of = [&](const fields& f) { return std::stoul(f.at(smoke ? "smoke_steps" : "steps")); };
        if (wanted("W1")) {
            const auto& f = man.at("W1");
            print_json(time_training<16, 3, dlib::adam>("W1", load_case(dir, f, f), f, steps_of(f), runs), "us/step");
        }
        if (wanted("W4")) {
            const auto& f = man.at("W4");
            const auto& fi = man.at("W4inv");
            w4_case w;
            w.train = load_case(dir, f, f);
            w.inv = load_case(dir, fi, fi);
            w.perm = read_raw<std::int32_t>(dir + "/" + fi.at("perm"), w.inv.rows);
            w.train_steps = std::stoul(f.at("train_steps"));
            w.warmup = std::stoul(fi.at("warmup"));
            w.lr = std::stod(f.at("lr"));
            w.tol = std::stod(fi.at("tol"));
            print_json(time_w4(w, steps_of(f), runs), "us/probe");
        }
        if (wanted("W2")) {
            const auto& f = man.at("W2");
            print_json(time_training<128, 10, dlib::adam>("W2", load_case(dir, f, f), f, steps_of(f), runs), "us/step");
        }
        if (wanted("W3")) {
            const auto& f = man.at("W3");
            print_json(time_training<256, 10, dlib::sgd>("W3", load_case(dir, f, f), f, steps_of(f), runs), "us/step");
        }
        if (wanted("W5") && man.count("W5")) {
            const auto& f = man.at("W5");
            print_json(time_cnn<8, 16, 1, 10, dlib::adam>("W5", load_cnn_case(dir, f), f, steps_of(f), runs), "us/step");
        }
        if (wanted("W6") && man.count("W6")) {
            const auto& f = man.at("W6");
            print_json(time_cnn<32, 64, 0, 10, dlib::sgd>("W6", load_cnn_case(dir, f), f, steps_of(f), runs), "us/step");
        }
        // W7 (the sequence classifier) needs multi-head attention, which dlib 19.24's DNN layers do
        // not have: say so, with no figure.
        if (wanted("W7") && man.count("W7")) {
            std::printf("{\"impl\": \"dlib\", \"workload\": \"W7\", \"unsupported\": \"dlib %d.%d has no "
                        "attention layer\"}\n",
                        DLIB_MAJOR_VERSION, DLIB_MINOR_VERSION);
            std::fflush(stdout);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dlib_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}

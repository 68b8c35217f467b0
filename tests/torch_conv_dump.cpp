// Dumps, for a handful of small CNNs at double, everything tests/torch_conv_check.py compares
// with PyTorch: the parameters and input it draws, the output, the loss (softmax cross-entropy,
// mean), the gradients of the input and of every parameter, and batch-norm running statistics
// after the training pass. One JSON object on stdout.
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nnprobe/nnprobe.hpp>

using namespace nnp;

namespace {
std::string list(const double* p, std::size_t n) {
    std::string s = "[";
    for (std::size_t i = 0; i < n; ++i) s += fmt::format("{}{:.17g}", i ? "," : "", p[i]);
    return s + "]";
}

// layers: how the Python side builds the same network (one entry per node after the input).
template <class G, class AfterTrain>
std::string run_case(const char* name, const G& net, const std::vector<std::string>& layers, std::size_t rows,
                     std::uint64_t s, AfterTrain after) {
    auto m = make_model<double>(net, seed{s});
    rng r(s + 100);
    for (const auto& p : m.params())
        for (std::size_t i = 0; i < p.size; ++i) p.value[i] = 0.5 * r.normal();
    using M = decltype(m);
    matrix<double> x = matrix<double>({rows, M::input_size}, 0.0);
    for (auto& v : x) v = r.normal();
    std::vector<int> y(rows);
    for (auto& v : y) v = static_cast<int>(r.next_u64() % M::output_size);
    m.enable_input_gradient(true);
    const auto& out = m.forward(x, mode::train);
    const double loss = softmax_cross_entropy(out, y, m.output_grad());
    m.backward();

    std::string j = fmt::format("{{\"name\":\"{}\",\"input_shape\":\"{}\",\"layers\":[", name, m.node(0).shape);
    for (std::size_t i = 0; i < layers.size(); ++i) j += fmt::format("{}\"{}\"", i ? "," : "", layers[i]);
    j += "],\"x\":" + list(x.data(), x.size()) + ",\"y\":[";
    for (std::size_t i = 0; i < rows; ++i) j += fmt::format("{}{}", i ? "," : "", y[i]);
    j += "],\"output\":" + list(out.data(), out.size()) + fmt::format(",\"loss\":{:.17g}", loss);
    j += ",\"dx\":" + list(m.gradient(0).data(), m.gradient(0).size()) + ",\"params\":[";
    for (std::size_t k = 0; k < m.params().size(); ++k) {
        const auto& p = m.params()[k];
        j += fmt::format("{}{{\"node\":{},\"name\":\"{}\",\"value\":{},\"grad\":{}}}", k ? "," : "", p.node, p.name,
                         list(p.value, p.size), list(p.grad, p.size));
    }
    j += "],\"running\":[" + after(m) + "]}";
    return j;
}
auto none = [](auto&) { return std::string(); };
template <std::size_t I>
auto running_of = [](auto& m) {
    auto& bn = m.template layer<I>();
    return fmt::format("{{\"node\":{},\"mean\":{},\"var\":{}}}", I, list(bn.running_mean.data(), bn.running_mean.size()),
                       list(bn.running_var.data(), bn.running_var.size()));
};
}  // namespace

int main() {
    std::vector<std::string> cases;
    cases.push_back(run_case("conv valid", input<2, 7, 6> | conv2d<3, 3> | relu | flatten | dense<4>,
                             {"conv 3 3 1 0 0 1 1", "relu", "flatten", "dense 4"}, 5, 1, none));
    cases.push_back(run_case("conv same, max pool",
                             input<2, 7, 6> | conv2d<3, 3, same_padding> | relu | max_pool2d<2> | flatten | dense<4>,
                             {"conv 3 3 1 same same 1 1", "relu", "maxpool 2 2", "flatten", "dense 4"}, 5, 2, none));
    cases.push_back(run_case("even kernel same, overlapping avg pool",
                             input<2, 7, 6> | conv2d<3, 2, same_padding> | nnp::tanh_act | avg_pool2d<2, stride<1>> |
                                 flatten | dense<4>,
                             {"conv 3 2 1 same same 1 1", "tanh", "avgpool 2 1", "flatten", "dense 4"}, 4, 3, none));
    cases.push_back(run_case("strided dilated conv, batch norm, max pool 3/2, global pool",
                             input<2, 9, 9> | conv2d_no_bias<4, 3, stride<2>, padding<2>, dilation<2>> | batch_norm |
                                 relu | max_pool2d<3, stride<2>> | global_avg_pool | dense<4>,
                             {"conv 4 3 2 2 2 2 0", "batchnorm", "relu", "maxpool 3 2", "globalavg", "dense 4"}, 6,
                             4, running_of<2>));
    cases.push_back(run_case("padded dilated conv, batch norm, avg pool, stride 3",
                             input<3, 8, 7> | conv2d<4, 3, padding<2>, dilation<2>> | batch_norm | relu |
                                 avg_pool2d<2, stride<3>> | flatten | dense<3>,
                             {"conv 4 3 1 2 2 2 1", "batchnorm", "relu", "avgpool 2 3", "flatten", "dense 3"}, 5, 5,
                             running_of<2>));
    std::string all = "[";
    for (std::size_t i = 0; i < cases.size(); ++i) all += (i ? ",\n" : "") + cases[i];
    std::puts((all + "]").c_str());
}

// Dumps, at double, what the PyTorch comparisons read; one JSON array on stdout.
//   torch_conv_dump             a handful of small CNNs for tests/torch_conv_check.py: the
//                               parameters and input it draws, the output, the loss (softmax
//                               cross-entropy, mean), the gradients of the input and of every
//                               parameter, and batch-norm running statistics after the
//                               training pass
//   torch_conv_dump sequences   the sequence layers, alone and in small models, for
//                               tests/torch_sequence_check.py: per case the padding masks, and
//                               for each the input, the output, the upstream gradient it
//                               draws, and the gradients of the input and of every parameter
// One program for both: each test executable costs a translation unit and a link.
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

// Sequences: a model over a batch of real-valued sequences (a stand-in for what feeds the
// layer in a real model) or of token ids, run at several padding masks.
template <std::size_t MaxLen, std::size_t D>
constexpr auto values_input = detail::input_of<sequence<MaxLen, D>>;

struct mask_case {
    std::vector<std::size_t> lengths;
    std::size_t length;  // the batch's T: the longest sample, or more (extra padding)
};
// No padding; padded to the longest sample; extra padding beyond the longest.
const std::vector<mask_case> seq_masks = {{{4, 4, 4}, 4}, {{1, 5, 3, 2}, 5}, {{2, 6}, 8}};

// layers: how the Python side builds the same network, one entry per node after the input
// ("add K" adds node K to the node before it; "identity" is linear_ok, which a network of one
// affine layer, or of a softmax alone (an output head), needs). ids: the input holds token ids < vocab.
template <class G>
std::string run_sequence_case(const char* name, const G& net, const std::vector<std::string>& layers,
                              std::uint64_t s, std::size_t vocab = 0, const std::vector<mask_case>& masks = seq_masks) {
    auto m = make_model<double>(net, seed{s});
    rng r(s + 100);
    for (const auto& p : m.params())
        if (!vocab || p.node != 1)  // the embedding keeps its own initialisation (row 0 zero)
            for (std::size_t i = 0; i < p.size; ++i) p.value[i] = 0.5 * r.normal();
    constexpr std::size_t width = detail::shape_at<G, 0>::width;
    std::string j = fmt::format("{{\"name\":\"{}\",\"width\":{},\"ids\":{},\"layers\":[", name, width,
                                vocab ? "true" : "false");
    for (std::size_t i = 0; i < layers.size(); ++i) j += fmt::format("{}\"{}\"", i ? "," : "", layers[i]);
    j += "],\"params\":[";
    for (std::size_t k = 0; k < m.params().size(); ++k) {
        const auto& p = m.params()[k];
        j += fmt::format("{}{{\"node\":{},\"name\":\"{}\",\"value\":{}}}", k ? "," : "", p.node, p.name,
                         list(p.value, p.size));
    }
    j += "],\"runs\":[";
    for (std::size_t c = 0; c < masks.size(); ++c) {
        const padding_mask mask(masks[c].lengths, masks[c].length);
        const std::size_t rows = mask.rows();
        matrix<double> x = matrix<double>({rows, mask.length() * width}, 0.0);
        for (std::size_t b = 0; b < rows; ++b)
            for (std::size_t t = 0; t < mask.length(); ++t)
                for (std::size_t d = 0; d < width; ++d)  // padded positions hold values too
                    x(b, t * width + d) = !vocab ? r.normal()
                                          : mask.real(b, t) ? static_cast<double>(1 + r.next_u64() % (vocab - 1))
                                                            : 0.0;
        m.enable_input_gradient(!vocab);
        const auto& out = m.forward(x, mask, mode::train);
        auto& dy = m.output_grad();
        for (auto& v : dy) v = r.normal();
        const matrix<double> upstream = dy;
        m.backward();
        j += fmt::format("{}{{\"lengths\":[", c ? "," : "");
        for (std::size_t b = 0; b < rows; ++b) j += fmt::format("{}{}", b ? "," : "", mask.length_of(b));
        j += fmt::format("],\"length\":{},\"x\":{},\"output\":{},\"dy\":{}", mask.length(),
                         list(x.data(), x.size()), list(out.data(), out.size()), list(upstream.data(), upstream.size()));
        if (!vocab) j += ",\"dx\":" + list(m.gradient(0).data(), m.gradient(0).size());
        j += ",\"grads\":[";
        for (std::size_t k = 0; k < m.params().size(); ++k)
            j += (k ? "," : "") + list(m.params()[k].grad, m.params()[k].size);
        j += "]}";
    }
    return j + "]}";
}

std::vector<std::string> sequence_cases() {
    std::vector<std::string> cases;
    cases.push_back(run_sequence_case("embedding", token_input<8> | embedding<11, 6>, {"embedding 11 6"}, 11, 11));
    cases.push_back(run_sequence_case("positional encoding, even width", values_input<8, 6> | positional_encoding | linear_ok,
                                      {"posenc", "identity"}, 12));
    cases.push_back(run_sequence_case("positional encoding, odd width, 64 positions",
                                      values_input<64, 5> | positional_encoding | linear_ok, {"posenc", "identity"}, 13, 0,
                                      {{{64, 17}, 64}, {{40, 63, 1}, 64}}));
    cases.push_back(run_sequence_case("learned positional encoding", values_input<8, 6> | learned_positional_encoding | linear_ok,
                                      {"learnedpos 8", "identity"}, 14));
    cases.push_back(run_sequence_case("layer norm per position", values_input<8, 6> | layer_norm, {"layernorm"}, 15));
    cases.push_back(run_sequence_case("softmax per position", values_input<8, 6> | softmax | linear_ok, {"softmax", "identity"}, 23));
    cases.push_back(run_sequence_case("log_softmax per position", values_input<8, 6> | log_softmax | linear_ok,
                                      {"logsoftmax", "identity"}, 24));
    cases.push_back(run_sequence_case("dense per position", values_input<8, 6> | dense<5> | linear_ok, {"dense 5", "identity"}, 16));
    cases.push_back(run_sequence_case("self-attention, 1 head", values_input<8, 6> | self_attention<1>,
                                      {"attention 1 0"}, 17));
    cases.push_back(run_sequence_case("self-attention, 3 heads", values_input<8, 6> | self_attention<3>,
                                      {"attention 3 0"}, 18));
    cases.push_back(run_sequence_case("causal self-attention, 1 head", values_input<8, 6> | causal_self_attention<1>,
                                      {"attention 1 1"}, 19));
    cases.push_back(run_sequence_case("causal self-attention, 2 heads",
                                      values_input<8, 6> | causal_self_attention<2>, {"attention 2 1"}, 20));
    cases.push_back(run_sequence_case(
        "model: embedding, positions, attention + residual, layer norm, masked mean pool, dense",
        token_input<8> | embedding<11, 6> | positional_encoding | named<"x"> | self_attention<2> | add<"x"> |
            layer_norm | masked_mean_pool | dense<3>,
        {"embedding 11 6", "posenc", "attention 2 0", "add 2", "layernorm", "meanpool", "dense 3"}, 21, 11));
    cases.push_back(run_sequence_case(
        "model: embedding, learned positions, causal attention + residual, dense, max and last-token pools",
        token_input<8> | embedding<11, 6> | learned_positional_encoding | named<"x"> | causal_self_attention<3> |
            add<"x"> | dense<6> | nnp::tanh_act | named<"h"> | masked_max_pool | named<"top"> | from<"h"> |
            last_token_pool | concat<"top"> | dense<3>,
        {"embedding 11 6", "learnedpos 8", "attention 3 1", "add 2", "dense 6", "tanh", "maxpool", "lastpool @6",
         "concat 7", "dense 3"},
        22, 11));
    return cases;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::string(argv[1]) == "sequences") {
        const auto cases = sequence_cases();
        std::string all = "[";
        for (std::size_t i = 0; i < cases.size(); ++i) all += (i ? ",\n" : "") + cases[i];
        std::puts((all + "]").c_str());
        return 0;
    }
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

// A probe of one's own, on the typed visit (<nnprobe/visit.hpp>): the relu layers are picked
// from the graph's type with hana::filter, and each is visited with its static shape and its
// outputs from the last forward pass.
#include <algorithm>
#include <cstdio>
#include <nnprobe/nnprobe.hpp>
#include <nnprobe/probes/verdict.hpp>
#include <nnprobe/visit.hpp>

namespace hana = boost::hana;

// Passes when no relu layer has more than half its units dead (zero for every sample).
template <class T, class G>
nnp::verdict relu_units_alive(nnp::model<T, G>& m, const nnp::matrix<T>& x) {
    m.forward(x, nnp::mode::eval);
    nnp::verdict v;
    v.check = "relu_units_alive";
    v.passed = true;
    nnp::for_each_node(m, hana::filter(nnp::node_types<G>, nnp::layer_is<nnp::relu_t>), [&](auto node) {
        constexpr std::size_t units = decltype(node)::shape::size;  // from the graph's type
        std::size_t dead = 0;
        for (std::size_t j = 0; j < units; ++j) {
            bool fires = false;
            for (std::size_t r = 0; r < x.shape()[0]; ++r) fires = fires || node.output()(r, j) > 0;
            dead += !fires;
        }
        if (2 * dead > units && v.passed) {
            v.passed = false;
            v.node = node.index;
            v.explanation = fmt::format("{}: {} of {} units dead", node.info().label(), dead, units);
        }
    });
    return v;
}

using namespace nnp;

int main() {
    auto data = load_csv<features<4>, classes<3>>(NNP_DATA_DIR "/iris.csv");
    standardise(data);
    auto healthy = make_model(input<4> | dense<16> | relu | dense<3>, seed{7});
    // a bias far below zero: every unit of the first relu layer is off for every sample
    auto dead = make_model(input<4> | dense<16> | relu | dense<8> | relu | dense<3>, seed{7});
    for (auto& p : dead.params())
        if (p.node == 1 && p.name == "bias") std::fill(p.value, p.value + p.size, -100.0f);
    const verdict a = relu_units_alive(healthy, data.x), b = relu_units_alive(dead, data.x);
    std::printf("healthy: %s\ndead bias: %s\n", a.passed ? "PASS" : "FAIL", b.explanation.c_str());
    return a.passed && !b.passed && b.node == 2 ? 0 : 1;
}
// Output:
// healthy: PASS
// dead bias: node 2 relu: 16 of 16 units dead

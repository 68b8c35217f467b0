#pragma once
// positions_reach_output: every position (row, column) of every image-shaped node must be
// able to change the network's output. In evaluation mode, after a few training steps, each
// position of a C x H x W node is pushed far up in every channel and sample, the nodes after
// it are run again, and the output must move (bitwise). A position that cannot move it is
// dropped downstream: a pooling or convolution stride larger than its window, or a reshape
// that cuts part of the image. On failure the check names the deepest node that has such
// positions and the node that takes its output (where they are dropped).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "mini_run.hpp"
#include "options.hpp"
#include "verdict.hpp"

namespace nnp {

namespace detail {
// {rank, C, H, W} of every node's shape.
template <class G>
constexpr std::array<std::array<std::size_t, 4>, G::size> node_dims() {
    return []<std::size_t... I>(std::index_sequence<I...>) {
        return std::array<std::array<std::size_t, 4>, G::size>{std::array<std::size_t, 4>{
            shape_at<G, I>::rank, shape_at<G, I>::dims[0],
            shape_at<G, I>::rank == 3 ? shape_at<G, I>::dims[shape_at<G, I>::rank == 3 ? 1 : 0] : 1,
            shape_at<G, I>::rank == 3 ? shape_at<G, I>::dims[shape_at<G, I>::rank == 3 ? 2 : 0] : 1}...};
    }(std::make_index_sequence<G::size>{});
}
}  // namespace detail

template <class T = float, class P>
verdict positions_reach_output(const P& p, const typename P::dataset_type& data,
                               const probe_options& o = {}) {
    using G = typename P::graph_type;
    constexpr auto dims = detail::node_dims<G>();
    const auto sub = detail::probe_subset(data, o);
    pipeline_run<T, P> run(p, sub, o.run_seed);
    for (std::size_t k = 0; k < o.invariance_warmup; ++k) run.step(k);  // biases off zero
    auto& m = run.net();
    run.infer(sub.x);
    const matrix<T> x0 = m.output(0);  // the batch as the network sees it
    const matrix<T> base = m.forward(x0, mode::eval);
    auto moved = [&](const matrix<T>& out) {
        return std::memcmp(out.data(), base.data(), base.size() * sizeof(T)) != 0;
    };

    verdict v;
    v.check = "positions_reach_output";
    std::size_t checked = 0;
    for (std::size_t i = G::size - 1; i-- > 0;) {  // deepest first
        const auto [rank, c, h, w] = dims[i];
        if (rank != 3) continue;
        const std::size_t plane = h * w, rows = x0.shape()[0];
        matrix<T> saved = m.output(i);
        T top = 1;
        for (T e : saved) top = std::max(top, std::abs(e));
        const T push = T(1000) * top;
        std::size_t dead = 0, first = 0;
        matrix<T> xp = x0;  // node 0 is perturbed through a copy of the batch
        for (std::size_t pos = 0; pos < plane; ++pos) {
            matrix<T>& buf = i == 0 ? xp : m.output_buffer(i);
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t ch = 0; ch < c; ++ch) buf(r, ch * plane + pos) += push;
            const bool reached = moved(i == 0 ? m.forward(xp, mode::eval) : m.forward_after(i));
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t ch = 0; ch < c; ++ch) buf(r, ch * plane + pos) = saved(r, ch * plane + pos);
            if (!reached && dead++ == 0) first = pos;
        }
        m.forward(x0, mode::eval);  // every node back on the unperturbed batch
        checked += plane;
        if (!dead) continue;
        std::string takers;
        for (const auto& n : m.nodes())
            if (std::find(n.inputs.begin(), n.inputs.end(), i) != n.inputs.end())
                takers += (takers.empty() ? "" : ", ") + n.label();
        v.node = i;
        v.measured = static_cast<double>(dead);
        v.threshold = 0;
        v.hint = "a pooling or convolution stride larger than its window skips rows and columns; "
                 "so does a reshape that cuts the image";
        v.explanation = fmt::format(
            "positions_reach_output: {} of the {} positions of {} ({}) never change the output, the "
            "first at row {}, column {}; {} takes that output and drops them; {}",
            dead, plane, m.node(i).label(), m.node(i).shape, first / w, first % w,
            takers.empty() ? std::string("no node") : takers, v.hint);
        return v;
    }
    v.passed = true;
    v.explanation = checked
        ? fmt::format("positions_reach_output: all {} positions of the image-shaped nodes change the output",
                      checked)
        : std::string("positions_reach_output: no image-shaped node to check");
    return v;
}

}  // namespace nnp

#pragma once
// P1 overfits: a healthy pipeline memorises a tiny stratified subset (every class a few
// samples). Passing: evaluation loss below 5% of the loss at chance (ln C for softmax
// cross-entropy) and, for classification, 100% accuracy, within the step budget.
#include <cmath>

#include <fmt/core.h>

#include "mini_run.hpp"
#include "options.hpp"
#include "verdict.hpp"

namespace nnp {

template <class T = float, class P>
verdict overfits(const P& p, const typename P::dataset_type& data, const probe_options& o = {}) {
    using DS = typename P::dataset_type;
    const DS sub = detail::probe_subset(data, o);
    pipeline_run<T, P> run(p, sub, o.run_seed);
    const double chance = detail::chance_loss<P>(sub);

    verdict v;
    v.check = "overfits";
    v.threshold = 0.05 * chance;
    double loss = chance, acc = 0;
    std::size_t k = 0;
    while (k < o.overfit_budget) {
        const double l = run.step(k++);
        v.series.push_back(l);
        if (!std::isfinite(l)) break;
        if (k % 10 == 0 || k == o.overfit_budget) {
            std::tie(loss, acc) = run.evaluate(sub);
            if (loss < v.threshold && acc == 1.0) break;
        }
    }
    v.measured = loss;
    v.step = k;
    v.passed = std::isfinite(loss) && loss < v.threshold && acc == 1.0;
    const std::string what = DS::is_classification ? " and 100% accuracy" : "";
    if (v.passed) {
        v.explanation = fmt::format("overfits: {} samples memorised in {} steps (loss {:.3g} < {:.3g}{})",
                                    sub.size(), k, loss, v.threshold, what);
        return v;
    }
    const double first = v.series.front();
    if (!std::isfinite(v.series.back())) {
        v.hint = "the loss diverged: a learning rate too large, or log(0) / division by zero";
        v.explanation = fmt::format("overfits: the loss became {} at step {}; {}", v.series.back(), k - 1, v.hint);
    } else if (loss > 1.1 * chance) {
        v.hint = "the outputs are confidently wrong: weights initialised at a huge scale, or a "
                 "learning rate too small to undo them";
        v.explanation = fmt::format(
            "overfits: after {} steps on {} samples the loss is {:.4g}, above the loss at chance "
            "({:.4g}; threshold {:.3g}); {}",
            k, sub.size(), loss, chance, v.threshold, v.hint);
    } else if (loss > 0.9 * chance) {
        v.hint = "the output ignores the input: are the labels still paired with their inputs "
                 "in the batcher, does a transform zero the data, is the output connected?";
        v.explanation = fmt::format(
            "overfits: the loss is stuck at chance after {} steps on {} samples: {:.4g}, the loss "
            "at chance is {:.4g}{} (threshold {:.3g}); {}",
            k, sub.size(), loss, chance, DS::is_classification ? " (ln C)" : " (the targets' variance)",
            v.threshold, v.hint);
    } else {
        v.hint = "too little capacity or learning rate, or inconsistent data: a sample seen with "
                 "different labels (labels shuffled per batch), or samples zeroed by a mask";
        v.explanation = fmt::format(
            "overfits: after {} steps on {} samples the loss fell from {:.4g} to {:.4g} but not "
            "below {:.3g}{}; {}",
            k, sub.size(), first, loss, v.threshold,
            DS::is_classification ? fmt::format(", accuracy {:.1f}%", 100 * acc) : std::string(), v.hint);
    }
    return v;
}

}  // namespace nnp

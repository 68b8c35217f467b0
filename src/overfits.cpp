// The overfits check (probes/nnprobe/probes/overfits.hpp), compiled once here for float and
// double rather than once per pipeline.
#include <nnprobe/probes/overfits.hpp>

namespace nnp::detail {

static double mean_of(const std::vector<double>& y, std::size_t from, std::size_t to) {
    double s = 0;
    for (std::size_t i = from; i < to; ++i) s += y[i];
    return to > from ? s / static_cast<double>(to - from) : 0.0;
}

template <class T>
verdict overfits_on(probe_target<T>& target, const probe_options& o) {
    require_positive(o.overfit_epochs, "overfit_epochs", "overfits");
    target.draw_subset();
    const std::size_t samples = target.subset_size();
    const std::size_t per_epoch = target.steps_per_epoch();
    const std::size_t budget = o.overfit_epochs * per_epoch, cap = 8 * budget;
    const std::size_t every = std::max<std::size_t>(10, per_epoch);  // evaluations: every 10 steps or epoch
    const auto started = target.start(o.run_seed);
    any_run<T>& run = *started;
    run.disable_dropout();
    if (per_epoch > 1) run.use_subset_statistics();  // full batches: their statistics are the subset's
    const double chance = target.chance_loss(), floor = target.loss_floor();
    run.refresh_statistics();
    const double initial = run.evaluate().first;

    verdict v;
    v.check = "overfits";
    v.threshold = floor + 0.05 * (chance - floor);
    double loss = chance, acc = 0;
    std::size_t k = 0;
    bool impossible = false;
    std::vector<std::pair<std::size_t, double>> evaluations;  // (step, evaluation loss)
    auto still_falling = [&] {  // below 99% of the loss half the run ago
        for (const auto& [at, l] : evaluations)
            if (2 * at >= k) return loss < 0.99 * l;
        return false;
    };
    while (k < cap) {
        const double l = run.step(k++);
        v.series.push_back(l);
        if (!std::isfinite(l)) break;
        if ((impossible = target.impossible_loss(l))) break;
        if (k % every == 0 || k == budget) {
            run.refresh_statistics();
            std::tie(loss, acc) = run.evaluate();
            evaluations.emplace_back(k, loss);
            if ((impossible = target.impossible_loss(loss))) break;
            if (loss < v.threshold && acc == 1.0) break;
            if (k >= budget && !still_falling()) break;
        }
    }
    v.measured = impossible ? std::min(loss, v.series.back()) : loss;
    v.step = k;
    v.passed = !impossible && std::isfinite(loss) && loss < v.threshold && acc == 1.0;
    const std::string what = target.classification() ? " and 100% accuracy" : "";
    std::pair<std::size_t, double> lowest{0, initial};  // the lowest evaluation loss: (step, loss)
    for (const auto& e : evaluations)
        if (e.second < lowest.second) lowest = e;
    const std::string epochs = per_epoch == 1 ? "" : fmt::format(" ({} epochs)", (k + per_epoch - 1) / per_epoch);
    if (v.passed) {
        v.explanation = fmt::format("overfits: {} samples memorised in {} steps{} (loss {:.3g} < {:.3g}{})",
                                    samples, k, epochs, loss, v.threshold, what);
        return v;
    }
    if (impossible) {
        v.hint = "targets outside the loss's range: binary cross-entropy needs targets in [0, 1]";
        v.explanation = fmt::format(
            "overfits: the loss is {:.4g} at step {}, below 0, the least value {} can take; {}", v.measured, k - 1,
            target.loss_name(), v.hint);
    } else if (!std::isfinite(v.series.back())) {
        v.hint = "the loss diverged: a learning rate too large, or log(0) / division by zero";
        v.explanation = fmt::format("overfits: the loss became {} at step {}; {}", v.series.back(), k - 1, v.hint);
    } else if (loss > 1.1 * chance && lowest.second > 1.1 * chance) {
        v.hint = "the outputs are confidently wrong: weights initialised at a huge scale, or a "
                 "learning rate too small to undo them";
        v.explanation = fmt::format(
            "overfits: after {} steps{} on {} samples the loss is {:.4g}, above the loss at chance "
            "({:.4g}; threshold {:.3g}), and was {:.4g} at initialisation, never near chance; {}",
            k, epochs, samples, loss, chance, v.threshold, initial, v.hint);
    } else if (loss > 1.1 * chance) {
        // The evaluation loss came down to chance, then training made it confidently wrong:
        // the run learns something, but not the subset's labels. Not an initialisation fault.
        const std::size_t e = std::min(per_epoch, v.series.size());
        const double train_first = mean_of(v.series, 0, e);
        const double train_last = mean_of(v.series, v.series.size() - e, v.series.size());
        v.hint = "the network learns labels that do not belong to its inputs: are the labels paired with "
                 "their inputs in the batcher (taken from another batch or step, shuffled apart)?";
        v.explanation = fmt::format(
            "overfits: after {} steps{} on {} samples the evaluation loss is {:.4g}, above the loss at chance "
            "({:.4g}; threshold {:.3g}), after {:.4g} at {}: training made it rise (the training loss went "
            "from {:.4g} to {:.4g}, first and last epoch); {}",
            k, epochs, samples, loss, chance, v.threshold, lowest.second,
            lowest.first == 0 ? std::string("initialisation") : fmt::format("step {}", lowest.first), train_first,
            train_last, v.hint);
    } else if (loss > 0.9 * chance) {
        v.hint = "the output ignores the input: are the labels still paired with their inputs "
                 "in the batcher, does a transform zero the data, is the output connected?";
        v.explanation = fmt::format(
            "overfits: the loss is stuck at chance after {} steps{} on {} samples: {:.4g}, the loss "
            "at chance is {:.4g}{} (threshold {:.3g}); {}",
            k, epochs, samples, loss, chance, target.classification() ? " (ln C)" : " (the targets' variance)",
            v.threshold, v.hint);
    } else {
        v.hint = "too little capacity or learning rate, or inconsistent data: a sample seen with "
                 "different labels (labels shuffled per batch), or samples zeroed by a mask";
        v.explanation = fmt::format(
            "overfits: after {} steps{} on {} samples the loss {} from {:.4g} to {:.4g} but not "
            "below {:.3g}{}; {}",
            k, epochs, samples, loss <= initial ? "fell" : "rose", initial, loss, v.threshold,
            target.classification() ? fmt::format(", accuracy {:.1f}%", 100 * acc) : std::string(), v.hint);
    }
    return v;
}

template verdict overfits_on(probe_target<float>&, const probe_options&);
template verdict overfits_on(probe_target<double>&, const probe_options&);

}  // namespace nnp::detail

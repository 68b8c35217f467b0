#pragma once
// One training step = forward (train mode), loss and its gradient, backward, optimiser
// update. The trainer owns the optimiser state; the model stays the user's.
#include <type_traits>

#include "loss.hpp"
#include "model.hpp"
#include "optimizer.hpp"

namespace nnp {

namespace detail {
// What the trainer keeps for an optimiser that failed its check: nothing, silently.
struct no_optimizer_state {
    template <class... A>
    explicit no_optimizer_state(const A&...) {}
    template <class... A>
    void step(const A&...) {}
};
}  // namespace detail

// Where a loss meets a model outside a pipeline, C5 (softmax before a loss on logits) and
// the optimiser are checked here; the label checks need the labels' type, which only a
// pipeline states.
template <class Model, class Loss, class Opt>
class trainer {
    using G = typename Model::graph_type;
    static constexpr std::size_t head = detail::structure<G>::probability_head;

public:
    using T = typename Model::scalar;

    trainer(Model& m, Loss loss, Opt opt) : model_(m), loss_(loss), opt_(opt) {
        if constexpr (detail::expects_logits<Loss>() && head != detail::npos) {
            static_assert(detail::softmax_output_fed_to_a_loss_that_expects_logits<
                              detail::node_ref<head, detail::layer_at<G, head>>, Loss>::value,
                          NNP_DETAIL_C5_SOFTMAX_TEXT);
        } else if constexpr (!detail::known_optimiser<Opt>) {
            static_assert(detail::unknown_optimiser<Opt>::value, NNP_DETAIL_UNKNOWN_OPTIMISER_TEXT);
        }
    }

    // Returns the loss before the update. Float data feeds a double model through a
    // conversion buffer (reused, so no allocation per step).
    template <class X, class Y>
    T step(const X& x, const Y& y) {
        const auto& out = model_.forward(as_scalar(x), mode::train);
        const T l = loss_(out, as_target(y), model_.output_grad());
        model_.backward();
        opt_.step(model_.params());
        return l;
    }

    // Loss in evaluation mode, without touching the parameters.
    template <class X, class Y>
    T loss(const X& x, const Y& y) {
        matrix<T> g;
        return loss_(model_.forward(as_scalar(x), mode::eval), as_target(y), g);
    }

    Model& model() { return model_; }
    const Loss& loss_fn() const { return loss_; }

private:
    template <class X>
    const matrix<T>& as_scalar(const X& x) { return detail::as_scalar(x, xbuf_); }
    template <class Y>
    decltype(auto) as_target(const Y& y) { return detail::as_scalar(y, ybuf_); }

    Model& model_;
    Loss loss_;
    std::conditional_t<detail::known_optimiser<Opt>, optimizer_state<Opt, T>, detail::no_optimizer_state> opt_;
    matrix<T> xbuf_, ybuf_;
};

// A model whose graph failed a static check: stay silent, the check already spoke.
template <class Loss, class Opt>
class trainer<invalid_model, Loss, Opt> {
public:
    trainer(invalid_model&, Loss, Opt) {}
    template <class... A>
    float step(const A&...) { return 0; }
    template <class... A>
    float loss(const A&...) { return 0; }
};

template <class Model, class Loss, class Opt>
trainer(Model&, Loss, Opt) -> trainer<Model, Loss, Opt>;

}  // namespace nnp

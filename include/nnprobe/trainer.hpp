#pragma once
// One training step = forward (train mode), loss and its gradient, backward, optimiser
// update. The trainer owns the optimiser state; the model stays the user's.
#include <type_traits>

#include "loss.hpp"
#include "model.hpp"
#include "optimizer.hpp"

namespace nnp {

template <class Model, class Loss, class Opt>
class trainer {
public:
    using T = typename Model::scalar;

    trainer(Model& m, Loss loss, Opt opt) : model_(m), loss_(loss), opt_(opt) {}

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
    optimizer_state<Opt, T> opt_;
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

#pragma once
// detail::function_ref<R(A...)>: a non-owning reference to a callable, for parameters that call
// back into the caller's code (a hook, a forward pass, a stage to name). Every lambda passed goes
// through this one type, so the function taking it is compiled once, or once in the library,
// rather than once per lambda; the callable must outlive the call.
#include <memory>
#include <type_traits>
#include <utility>

namespace nnp::detail {

template <class Signature>
class function_ref;

template <class R, class... A>
class function_ref<R(A...)> {
public:
    function_ref() = default;
    function_ref(std::nullptr_t) {}
    template <class F>
        requires(!std::is_same_v<std::remove_cvref_t<F>, function_ref> && std::is_invocable_r_v<R, F&, A...>)
    function_ref(F&& f)  // NOLINT: implicit, as a lambda is passed
        : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
          call_([](void* o, A... a) -> R {
              return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<A>(a)...);
          }) {}
    explicit operator bool() const { return call_ != nullptr; }
    R operator()(A... a) const { return call_(object_, std::forward<A>(a)...); }

private:
    void* object_ = nullptr;
    R (*call_)(void*, A...) = nullptr;
};

}  // namespace nnp::detail

#pragma once
// A string usable as a template argument, so node names live in the graph's type and a
// reference to a missing name is a compile error.
#include <cstddef>
#include <string_view>

namespace nnp {

template <std::size_t N>
struct fixed_string {
    char chars[N]{};
    constexpr fixed_string(const char (&s)[N]) {
        for (std::size_t i = 0; i < N; ++i) chars[i] = s[i];
    }
    constexpr std::string_view view() const { return {chars, N - 1}; }
    constexpr bool empty() const { return N <= 1; }
};

}  // namespace nnp

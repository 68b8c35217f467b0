#pragma once
// A type's name as a message shows it: demangled, without namespace qualifiers and integer
// suffixes ("nnp::bugs::hwc_read_as_cwh<1ul, 8ul, 8ul>" reads "hwc_read_as_cwh<1, 8, 8>").
#include <cctype>
#include <cstdlib>
#include <memory>
#include <string>
#include <typeinfo>

#include <cxxabi.h>

namespace nnp::detail {

// Drops every "name::" qualifier (and "(anonymous namespace)::") and the u/l suffixes of
// integer literals.
inline std::string readable_name(const std::string& s) {
    auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        if (s.compare(i, 21, "(anonymous namespace)") == 0 && s.compare(i + 21, 2, "::") == 0) {
            i += 23;
            continue;
        }
        if (ident(s[i]) && (out.empty() || !ident(out.back()))) {
            std::size_t j = i;
            while (j < s.size() && ident(s[j])) ++j;
            if (s.compare(j, 2, "::") == 0) {  // a qualifier: skip it and the colons
                i = j + 2;
                continue;
            }
            std::string word = s.substr(i, j - i);
            if (std::isdigit(static_cast<unsigned char>(word[0]))) {  // 8ul -> 8
                while (!word.empty() && (word.back() == 'u' || word.back() == 'l')) word.pop_back();
            }
            out += word;
            i = j;
            continue;
        }
        out += s[i++];
    }
    return out;
}

template <class X>
std::string demangled_name() {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> s(abi::__cxa_demangle(typeid(X).name(), nullptr, nullptr, &status),
                                              std::free);
    return status == 0 && s ? std::string(s.get()) : std::string(typeid(X).name());
}

template <class X>
std::string readable_type_name() {
    return readable_name(demangled_name<X>());
}

}  // namespace nnp::detail

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
std::string readable_name(const std::string& s);  // src/type_names.cpp

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

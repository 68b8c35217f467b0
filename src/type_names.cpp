// A type's name as a message shows it (probes/nnprobe/probes/type_names.hpp): not a template,
// compiled once here rather than in every translation unit that includes the header.
#include <cctype>
#include <string>

#include <nnprobe/probes/type_names.hpp>

namespace nnp::detail {

// Drops every "name::" qualifier (and "(anonymous namespace)::") and the u/l suffixes of
// integer literals.
std::string readable_name(const std::string& s) {
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

}  // namespace nnp::detail

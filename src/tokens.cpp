// The token-sequence reader behind nnp::load_token_sequences: one sample a line, "label id id
// ...", blanks between fields. Every rejection names the file, the line and the column (the
// 1-based field: the label is column 1, the first id column 2). The input is untrusted.
#include <nnprobe/token_data.hpp>

#include <charconv>
#include <fstream>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

namespace nnp::detail {

token_lines read_token_lines(const std::string& path, std::size_t vocabulary,
                             std::size_t max_length, std::size_t classes) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw data_error(fmt::format("{}: cannot open the file", path));
    token_lines out;
    std::string line;
    std::size_t line_no = 0;
    while (std::getline(in, line)) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::string_view rest(line);
        std::vector<std::uint32_t> ids;
        std::size_t column = 0;
        long long label = -1;
        while (true) {
            const std::size_t start = rest.find_first_not_of(" \t");
            if (start == std::string_view::npos) break;
            rest.remove_prefix(start);
            const std::size_t end = std::min(rest.find_first_of(" \t"), rest.size());
            const std::string_view field = rest.substr(0, end);
            rest.remove_prefix(end);
            ++column;
            unsigned long long v = 0;
            const auto [p, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
            const std::string where = fmt::format("{}:{}: column {}: ", path, line_no, column);
            if (ec != std::errc() || p != field.data() + field.size()) {
                const std::string shown(field.substr(0, 40));
                throw data_error(fmt::format("{}\"{}\" is not a non-negative integer ({})", where,
                                             shown, column == 1 ? "the label" : "a token id"));
            }
            if (column == 1) {
                if (v >= classes)
                    throw data_error(fmt::format("{}label {} is outside [0, {}) (classes {})", where,
                                                 v, classes, classes));
                label = static_cast<long long>(v);
                continue;
            }
            if (v == 0 || v >= vocabulary)
                throw data_error(fmt::format(
                    "{}token id {} is outside the vocabulary [1, {}){}", where, v, vocabulary,
                    v == 0 ? " (0 is the padding id)" : ""));
            if (ids.size() == max_length)
                throw data_error(fmt::format("{}the sequence is longer than the maximum length {}",
                                             where, max_length));
            ids.push_back(static_cast<std::uint32_t>(v));
        }
        if (column == 0) continue;  // blank line
        if (ids.empty())
            throw data_error(fmt::format("{}:{}: column 2: empty sequence: a label needs at least "
                                         "one token id after it",
                                         path, line_no));
        out.tokens.push_back(std::move(ids));
        out.labels.push_back(static_cast<int>(label));
    }
    if (in.bad()) throw data_error(fmt::format("{}: read error after line {}", path, line_no));
    if (out.labels.empty()) throw data_error(fmt::format("{}: no samples", path));
    return out;
}

}  // namespace nnp::detail

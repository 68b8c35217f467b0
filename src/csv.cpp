// The numeric CSV reader behind nnp::load_csv. Plain ifstream + std::from_chars: independent
// of the C locale (a German locale would read "5,1" as a number), and every rejection says
// where in the file it happened. Every access is bounds-checked: the input is untrusted.
#include <nnprobe/csv.hpp>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string_view>
#include <system_error>
#include <vector>

#include <fmt/format.h>

namespace nnp::detail {
namespace {

[[noreturn]] void fail(std::string message) { throw data_error(std::move(message)); }

std::string at(const std::string& path, std::size_t line) {
    return fmt::format("{}:{}: ", path, line);
}

std::string at(const std::string& path, std::size_t line, std::size_t column) {
    return fmt::format("{}:{}: column {}: ", path, line, column);
}

// A cell as it can be quoted in a message: control bytes escaped, long cells cut short
// (the input may be binary garbage).
std::string quoted(std::string_view cell) {
    constexpr std::size_t max_shown = 40;
    std::string out = "\"";
    for (std::size_t i = 0; i < cell.size() && i < max_shown; ++i) {
        const auto c = static_cast<unsigned char>(cell[i]);
        if (c == '"' || c == '\\')
            out += fmt::format("\\{}", static_cast<char>(c));
        else if (c < 0x20 || c == 0x7f)
            out += fmt::format("\\x{:02x}", c);
        else
            out += static_cast<char>(c);
    }
    if (cell.size() > max_shown) out += "...";
    out += '"';
    return out;
}

bool is_space(char c, char delimiter) { return (c == ' ' || c == '\t') && c != delimiter; }

std::string_view trim(std::string_view s, char delimiter) {
    while (!s.empty() && is_space(s.front(), delimiter)) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back(), delimiter)) s.remove_suffix(1);
    return s;
}

bool is_blank(std::string_view line) {
    for (char c : line)
        if (c != ' ' && c != '\t') return false;
    return true;
}

// "1 column", "3 columns".
std::string columns(std::size_t n) { return fmt::format("{} column{}", n, n == 1 ? "" : "s"); }

std::size_t count_fields(std::string_view line, char delimiter) {
    std::size_t n = 1;
    for (char c : line) n += (c == delimiter);
    return n;
}

std::string read_whole_file(const std::string& path) {
    if (path.empty()) fail("load_csv: the file path is empty");
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) fail(path + ": is a directory, not a CSV file");
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (!std::filesystem::exists(path, ec)) fail(path + ": file not found");
        fail(path + ": cannot open the file for reading");
    }
    std::string text;
    std::vector<char> buffer(std::size_t{1} << 16);  // on the heap: callers may run on small stacks
    while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0)
        text.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
    if (in.bad()) fail(path + ": read error");
    return text;
}

// from_chars rejects a leading '+', which spreadsheets sometimes write.
std::string_view without_plus(std::string_view cell) {
    if (cell.size() > 1 && cell[0] == '+' && cell[1] != '+' && cell[1] != '-') cell.remove_prefix(1);
    return cell;
}

// Does every cell of `line` read as a number? Then it is data, not a header: a header names
// its columns, so at least one of its cells is not a number.
bool all_numeric(std::string_view line, char delimiter) {
    while (true) {
        const std::size_t cut = line.find(delimiter);
        const std::string_view cell = without_plus(trim(line.substr(0, cut), delimiter));
        double value = 0.0;
        const auto [ptr, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
        if (cell.empty() || (ec != std::errc() && ec != std::errc::result_out_of_range) ||
            ptr != cell.data() + cell.size())
            return false;
        if (cut == std::string_view::npos) return true;
        line.remove_prefix(cut + 1);
    }
}

// One cell as a finite number within float range (the data ends up as float; converting a
// larger double to float is undefined behaviour).
double parse_cell(std::string_view cell, const std::string& path, std::size_t line,
                  std::size_t column) {
    if (cell.empty()) fail(at(path, line, column) + "empty cell");
    const std::string_view digits = without_plus(cell);
    double value = 0.0;
    const char* const end = digits.data() + digits.size();
    const auto [ptr, ec] = std::from_chars(digits.data(), end, value);
    if (ec == std::errc::result_out_of_range)
        fail(at(path, line, column) + quoted(cell) + " is out of range");
    if (ec != std::errc() || ptr != end)
        fail(at(path, line, column) + quoted(cell) + " is not a number");
    if (!std::isfinite(value))
        fail(at(path, line, column) + quoted(cell) +
             " is not a finite number (NaN and Inf are not allowed)");
    if (std::fabs(value) > static_cast<double>(std::numeric_limits<float>::max()))
        fail(at(path, line, column) + quoted(cell) + " is out of range for float");
    return value;
}

}  // namespace

numeric_table read_numeric_csv(const std::string& path, std::size_t expected_columns,
                               const csv_options& opts) {
    if (expected_columns == 0) fail(path + ": load_csv: expected at least one column");
    const char delim = opts.delimiter;
    if (delim == '\n' || delim == '\r' || delim == '.' || delim == '+' || delim == '-' ||
        (delim >= '0' && delim <= '9') || (delim >= 'a' && delim <= 'z') ||
        (delim >= 'A' && delim <= 'Z'))
        fail(fmt::format("{}: {} cannot be a delimiter between numbers",
                         path, quoted(std::string_view(&delim, 1))));

    const std::string text = read_whole_file(path);
    std::string_view rest = text;
    constexpr std::string_view bom = "\xEF\xBB\xBF";  // written by some spreadsheet exports
    if (rest.substr(0, bom.size()) == bom) rest.remove_prefix(bom.size());

    numeric_table table;
    table.columns = expected_columns;
    std::size_t line_no = 0;
    std::size_t first_blank = 0;  // 1-based line of a blank line not (yet) known to be trailing
    bool header_seen = false;

    while (!rest.empty()) {
        const std::size_t newline = rest.find('\n');
        std::string_view line = rest.substr(0, newline);
        rest = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF

        // Blank lines are fine at the end of the file (editors add them) but not before data:
        // there they usually mean a truncated or concatenated file.
        if (is_blank(line)) {
            if (first_blank == 0) first_blank = line_no;
            continue;
        }
        if (first_blank != 0)
            fail(at(path, first_blank) +
                 "empty line (empty lines are only allowed at the end of the file)");

        const std::size_t found = count_fields(line, delim);
        if (opts.header && !header_seen) {
            header_seen = true;
            if (all_numeric(line, delim))
                fail(at(path, line_no) +
                     "the header line is missing: this first line is all numbers, and a header "
                     "names the columns (at least one cell that is not a number). Add a header "
                     "line, or load with csv_options{.header = false}");
            if (found != expected_columns)
                fail(at(path, line_no) + "the header has " + columns(found) + ", expected " +
                     std::to_string(expected_columns));
            continue;
        }
        if (found != expected_columns)
            fail(at(path, line_no) + "expected " + columns(expected_columns) + ", found " +
                 std::to_string(found));

        std::size_t column = 0;
        std::string_view fields = line;
        while (column < expected_columns) {
            const std::size_t cut = fields.find(delim);
            const std::string_view cell = trim(fields.substr(0, cut), delim);
            fields = cut == std::string_view::npos ? std::string_view{} : fields.substr(cut + 1);
            ++column;
            table.values.push_back(parse_cell(cell, path, line_no, column));
        }
        table.lines.push_back(line_no);
        ++table.rows;
    }

    if (table.rows == 0) {
        if (header_seen) fail(path + ": has a header line but no data rows");
        fail(path + ": file is empty");
    }
    return table;
}

void copy_columns(const numeric_table& table, std::size_t first, std::size_t count, float* out) {
    if (first > table.columns || count > table.columns - first ||
        table.values.size() != table.rows * table.columns)
        throw data_error("load_csv: column range outside the parsed table");
    for (std::size_t r = 0; r < table.rows; ++r)
        for (std::size_t c = 0; c < count; ++c)
            out[r * count + c] = static_cast<float>(table.values[r * table.columns + first + c]);
}

std::vector<int> class_labels(const numeric_table& table, std::size_t column,
                              std::size_t class_count, const std::string& path) {
    if (column >= table.columns || table.values.size() != table.rows * table.columns ||
        table.lines.size() != table.rows)
        throw data_error("load_csv: label column outside the parsed table");
    std::vector<int> labels(table.rows);
    for (std::size_t r = 0; r < table.rows; ++r) {
        const double v = table.values[r * table.columns + column];
        const std::size_t line = table.lines[r];
        if (v != std::trunc(v))
            fail(at(path, line, column + 1) + fmt::format("label {} is not an integer", v));
        if (v < 0.0 || v >= static_cast<double>(class_count))
            fail(at(path, line, column + 1) +
                 fmt::format("label {} out of range [0, {}) for classes<{}>", v, class_count,
                             class_count));
        labels[r] = static_cast<int>(v);  // in [0, class_count) and class_count <= INT_MAX
    }
    return labels;
}

}  // namespace nnp::detail

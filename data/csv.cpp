#include "data/csv.h"

#include <charconv>
#include <cmath>
#include <sstream>

#include "core/error.h"
#include "core/factory.h"
#include "core/ops.h"
#include "serialization/file_io.h"

namespace nudge::data {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view line, char delimiter) {
  std::vector<std::string_view> cells;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = line.find(delimiter, start);
    cells.push_back(trim(line.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)));
    if (end == std::string_view::npos) return cells;
    start = end + 1;
  }
}

double parse_number(std::string_view cell, const std::string& where) {
  std::string_view digits = cell;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);  // from_chars rejects a leading '+'
  double value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  NUDGE_CHECK_AS(FormatError, !cell.empty(), where, ": empty cell (nudge reads numeric CSV only)");
  NUDGE_CHECK_AS(FormatError, error == std::errc() && end == digits.data() + digits.size(), where, ": cannot parse \"",
                 cell, "\" as a number");
  return value;
}

}  // namespace

CsvTable parse_csv(const std::string& text, const CsvOptions& options, const std::string& source) {
  CsvTable table;
  std::vector<double> values;
  std::istringstream lines(text);
  std::string line;
  long line_number = 0;
  std::size_t rows = 0;
  while (std::getline(lines, line)) {
    ++line_number;
    if (trim(line).empty()) continue;
    const std::vector<std::string_view> cells = split(line, options.delimiter);
    if (table.columns.empty()) {
      if (options.header) {
        for (std::string_view cell : cells) table.columns.emplace_back(cell);
        continue;
      }
      for (std::size_t c = 0; c < cells.size(); ++c) table.columns.push_back(std::to_string(c));
    }
    NUDGE_CHECK_AS(FormatError, cells.size() == table.columns.size(), "read_csv: ", source, " line ", line_number, ": ",
                   cells.size(), " cells, but ", options.header ? "the header names " : "the first row has ",
                   table.columns.size(), " columns");
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const std::string where = "read_csv: " + source + " line " + std::to_string(line_number) + ", column " +
                                std::to_string(c + 1) + " (\"" + table.columns[c] + "\")";
      const double value = parse_number(cells[c], where);
      // An int64 table holds exact integers: truncating "2.5", "nan" or "1e30" into a label or an
      // index would be garbage (and the conversion of the last two is undefined in C++).
      NUDGE_CHECK_AS(FormatError,
                     options.dtype != kInt64 || (std::trunc(value) == value && value >= -0x1p63 && value < 0x1p63),
                     where, ": \"", cells[c], "\" is not an int64 value");
      values.push_back(value);
    }
    ++rows;
  }
  NUDGE_CHECK_AS(FormatError, !table.columns.empty(), "read_csv: ", source, " is empty");
  table.values = tensor(values, {static_cast<std::int64_t>(rows), static_cast<std::int64_t>(table.columns.size())},
                        TensorOptions(options.dtype));
  return table;
}

CsvTable read_csv(const std::string& path, const CsvOptions& options) {
  return parse_csv(serialization::read_file(path, "read_csv"), options, path);
}

std::int64_t CsvTable::column_index(const std::string& name) const {
  std::string known;
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (columns[c] == name) return static_cast<std::int64_t>(c);
    known += (c ? ", " : "") + columns[c];
  }
  NUDGE_FAIL("CsvTable: no column named \"", name, "\" (columns: ", known, ")");
}

Tensor CsvTable::select(const std::vector<std::string>& names) const {
  const std::int64_t rows = values.size(0);
  Tensor out = empty({rows, static_cast<std::int64_t>(names.size())}, TensorOptions(values.dtype()));
  for (std::size_t i = 0; i < names.size(); ++i)
    out.select(1, static_cast<std::int64_t>(i)).copy_(values.select(1, column_index(names[i])));
  return out;
}

}  // namespace nudge::data

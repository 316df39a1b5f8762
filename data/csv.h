#pragma once
/// A reader for numeric CSV files: a header row of column names, then one row of numbers per
/// example. A bad cell is an error naming the file, line and column, never a silent NaN.
#include <string>
#include <vector>

#include "core/tensor.h"

namespace nudge::data {

/// Designated initialisers follow the field order: `{.delimiter, .header, .dtype}`.
struct CsvOptions {
  char delimiter = ',';
  /// The first line names the columns (otherwise they are named "0", "1", ...).
  bool header = true;
  DType dtype = kFloat32;
};

struct CsvTable {
  std::vector<std::string> columns;
  /// [rows, columns] on the CPU.
  Tensor values;

  /// Index of a column by name; throws listing the columns when there is none.
  std::int64_t column_index(const std::string& name) const;
  /// The named columns as [rows, names.size()] (a copy, in the given order).
  Tensor select(const std::vector<std::string>& names) const;
};

CsvTable read_csv(const std::string& path, const CsvOptions& options = {});
/// The same, from text already in memory (`source` names it in errors).
CsvTable parse_csv(const std::string& text, const CsvOptions& options = {}, const std::string& source = "<string>");

}  // namespace nudge::data

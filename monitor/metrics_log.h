#pragma once
/// A table of training metrics (one row per epoch or step), streamed to a CSV file as rows
/// arrive — a run that dies leaves its log so far — and kept in memory for plots.
#include <fstream>
#include <string>
#include <vector>

namespace nudge::monitor {

class MetricsLog {
 public:
  /// `columns` names each value of a row; `csv_path` may be empty (memory only).
  explicit MetricsLog(std::vector<std::string> columns, const std::string& csv_path = "");

  /// Appends a row (one value per column) and writes it to the CSV file, if any.
  void add(const std::vector<double>& row);

  const std::vector<std::string>& columns() const { return columns_; }
  std::size_t rows() const { return rows_.size(); }
  /// All values of the named column, in row order.
  std::vector<double> column(const std::string& name) const;
  const std::vector<double>& row(std::size_t i) const { return rows_.at(i); }

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<double>> rows_;
  std::ofstream csv_;
  std::string csv_path_;
};

}  // namespace nudge::monitor

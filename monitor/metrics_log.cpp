#include "monitor/metrics_log.h"

#include "core/error.h"

namespace nudge::monitor {

MetricsLog::MetricsLog(std::vector<std::string> columns, const std::string& csv_path)
    : columns_(std::move(columns)), csv_path_(csv_path) {
  NUDGE_CHECK(!columns_.empty(), "MetricsLog: needs at least one column");
  if (csv_path.empty()) return;
  csv_.open(csv_path);
  NUDGE_CHECK(csv_.good(), "MetricsLog: cannot write ", csv_path);
  csv_.precision(17);
  for (std::size_t c = 0; c < columns_.size(); ++c) csv_ << (c ? "," : "") << columns_[c];
  csv_ << '\n' << std::flush;
}

void MetricsLog::add(const std::vector<double>& row) {
  NUDGE_CHECK(row.size() == columns_.size(), "MetricsLog::add: got ", row.size(), " values for ", columns_.size(),
              " columns");
  rows_.push_back(row);
  if (!csv_.is_open()) return;
  for (std::size_t c = 0; c < row.size(); ++c) csv_ << (c ? "," : "") << row[c];
  csv_ << '\n' << std::flush;
  NUDGE_CHECK(csv_.good(), "MetricsLog: writing ", csv_path_, " failed");
}

std::vector<double> MetricsLog::column(const std::string& name) const {
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    if (columns_[c] != name) continue;
    std::vector<double> values;
    for (const auto& row : rows_) values.push_back(row[c]);
    return values;
  }
  NUDGE_FAIL("MetricsLog: no column named \"", name, "\"");
}

}  // namespace nudge::monitor

#include "monitor/confusion_matrix.h"

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "core/error.h"

namespace nudge::monitor {

ConfusionMatrix::ConfusionMatrix(std::int64_t num_classes)
    : n_(num_classes), counts_(static_cast<std::size_t>(std::max<std::int64_t>(num_classes, 0) * num_classes)) {
  NUDGE_CHECK(num_classes > 0, "ConfusionMatrix: num_classes must be positive, got ", num_classes);
}

void ConfusionMatrix::add(std::int64_t prediction, std::int64_t target) {
  NUDGE_CHECK(prediction >= 0 && prediction < n_ && target >= 0 && target < n_, "ConfusionMatrix::add: prediction ",
              prediction, " or target ", target, " is outside [0, ", n_, ")");
  ++counts_[static_cast<std::size_t>(target * n_ + prediction)];
  ++total_;
}

void ConfusionMatrix::add(const Tensor& predictions, const Tensor& targets) {
  NUDGE_CHECK(predictions.dtype() == kInt64 && targets.dtype() == kInt64 && predictions.shape() == targets.shape(),
              "ConfusionMatrix::add: predictions and targets must be int64 class indices of one shape, got a ",
              describe(predictions), " and a ", describe(targets));
  const std::vector<std::int64_t> p = predictions.to_vector<std::int64_t>(), t = targets.to_vector<std::int64_t>();
  for (std::size_t i = 0; i < p.size(); ++i) add(p[i], t[i]);
}

std::int64_t ConfusionMatrix::count(std::int64_t target, std::int64_t prediction) const {
  NUDGE_CHECK(target >= 0 && target < n_ && prediction >= 0 && prediction < n_,
              "ConfusionMatrix::count: index outside [0, ", n_, ")");
  return counts_[static_cast<std::size_t>(target * n_ + prediction)];
}

double ConfusionMatrix::accuracy() const {
  std::int64_t correct = 0;
  for (std::int64_t c = 0; c < n_; ++c) correct += count(c, c);
  return total_ ? static_cast<double>(correct) / static_cast<double>(total_) : 0;
}

double ConfusionMatrix::recall(std::int64_t c) const {
  std::int64_t row = 0;
  for (std::int64_t p = 0; p < n_; ++p) row += count(c, p);
  return row ? static_cast<double>(count(c, c)) / static_cast<double>(row) : 0;
}

std::string ConfusionMatrix::str(const std::vector<std::string>& names) const {
  auto name = [&](std::int64_t c) {
    return c < static_cast<std::int64_t>(names.size()) ? names[c] : std::to_string(c);
  };
  int label_width = 9;  // "true\pred"
  for (std::int64_t c = 0; c < n_; ++c) label_width = std::max(label_width, static_cast<int>(name(c).size()));
  std::int64_t largest = 1;
  for (std::int64_t v : counts_) largest = std::max(largest, v);
  const int cell = std::max(4, static_cast<int>(std::to_string(largest).size()) + 1);
  std::ostringstream out;
  out << std::setw(label_width) << "true\\pred";
  for (std::int64_t p = 0; p < n_; ++p) out << std::setw(cell) << p;
  out << "   recall\n" << std::fixed << std::setprecision(4);
  for (std::int64_t t = 0; t < n_; ++t) {
    out << std::setw(label_width) << name(t);
    for (std::int64_t p = 0; p < n_; ++p) out << std::setw(cell) << count(t, p);
    out << "   " << recall(t) << '\n';
  }
  out << "accuracy " << accuracy() << " over " << total_ << " examples\n";
  return out.str();
}

}  // namespace nudge::monitor

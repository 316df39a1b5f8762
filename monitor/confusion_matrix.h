#pragma once
/// A confusion matrix for classifiers: counts[target][prediction], accuracy, per-class recall,
/// and a printable table.
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace nudge::monitor {

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(std::int64_t num_classes);

  /// Counts a batch: `predictions` and `targets` are int64 class indices of the same shape, on
  /// any device (copied to the host once).
  void add(const Tensor& predictions, const Tensor& targets);
  void add(std::int64_t prediction, std::int64_t target);

  std::int64_t num_classes() const { return n_; }
  std::int64_t count(std::int64_t target, std::int64_t prediction) const;
  std::int64_t total() const { return total_; }
  /// Fraction of examples on the diagonal (0 when empty).
  double accuracy() const;
  /// Of the examples of class c, the fraction predicted c.
  double recall(std::int64_t c) const;
  /// Rows = true class, columns = predicted class, with per-class recall; `names` label the rows.
  std::string str(const std::vector<std::string>& names = {}) const;

 private:
  std::int64_t n_;
  std::int64_t total_ = 0;
  std::vector<std::int64_t> counts_;
};

}  // namespace nudge::monitor

#pragma once
/// monitor::DivergenceCheck: stops a training loop whose loss has become NaN or inf, without a
/// device synchronisation every step.
///
///   monitor::DivergenceCheck diverged(/*check_every=*/50);
///   for (...) { ...; loss.backward(); optimizer.step(); diverged.check(loss); }
///   diverged.finish();  // checks the last steps too
///
/// check() folds loss·0 into a device scalar (±0 while every loss is finite, NaN for ever once one
/// is not) and reads it back every `check_every` calls: a throw names the range of steps.
#include <cstdint>

#include "core/tensor.h"

namespace nudge::monitor {

class DivergenceCheck {
 public:
  explicit DivergenceCheck(std::int64_t check_every = 1);
  /// Records this step's loss; every check_every steps throws nudge::NonFiniteError if any loss
  /// since the last check was NaN or inf.
  void check(const Tensor& loss);
  /// Checks the steps since the last check.
  void finish();
  std::int64_t steps() const { return steps_; }

 private:
  std::int64_t check_every_, steps_ = 0, checked_ = 0;
  Tensor flag_;  // sum of loss·0 since the last check, on the loss's device
};

}  // namespace nudge::monitor

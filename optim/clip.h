#pragma once
#include <vector>

#include "core/tensor.h"

namespace nudge::optim {

/// Scales the gradients of `params` in place so their joint L2 norm is at most `max_norm`;
/// returns the norm before clipping (as torch.nn.utils.clip_grad_norm_).
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm);

/// Stops training when the monitored loss has not improved by more than `min_delta` for
/// `patience` consecutive checks.
class EarlyStopping {
 public:
  explicit EarlyStopping(int patience, double min_delta = 0) : patience_(patience), min_delta_(min_delta) {}
  /// Records this epoch's loss; returns true when training should stop.
  bool step(double loss);
  bool should_stop() const { return bad_epochs_ >= patience_; }
  double best() const { return best_; }

 private:
  int patience_;
  double min_delta_;
  double best_ = 1.0 / 0.0;
  int bad_epochs_ = 0;
};

}  // namespace nudge::optim

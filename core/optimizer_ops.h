#pragma once
/// The optimizer updates as core ops, each ONE multi-tensor kernel per device and dtype (as
/// PyTorch's fused optimizer ops): optim/ keeps groups, state and schedules and calls these.
/// The update rules are written once, in the backends' shared functors (sgd_update, adam_update).
#include <vector>

#include "core/tensor.h"

namespace nudge {

/// One parameter of an SGD step. `momentum_buffer` is undefined without momentum; with
/// `first_step` it is overwritten with the gradient (PyTorch's rule) instead of being read.
/// `lr`: the learning rate as a one-element float64 tensor on the parameter's device (the kernel
/// reads it there, so that a replayed Graph follows a scheduler; optim/optimizer.h keeps it).
struct SgdParam {
  Tensor param, grad, momentum_buffer, lr;
  bool first_step = false;
};
struct SgdHyper {
  double momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
};
/// p ← p − lr·(g + wd·p, through momentum and Nesterov as in optim/sgd.h), in place, every
/// parameter at once. Gradients may be strided (they are made contiguous); parameters must be
/// contiguous. Runs without recording (an update is not part of the graph).
void sgd_step_(const std::vector<SgdParam>& params, const SgdHyper& hyper);

/// One parameter of an Adam/AdamW step. `lr` as for SGD; `step`: the parameter's step count, a
/// one-element float64 tensor on its device: the update uses t = step + 1 for its bias corrections
/// 1 − β₁ᵗ and √(1 − β₂ᵗ) and stores t.
struct AdamParam {
  Tensor param, grad, exp_avg, exp_avg_sq, lr, step;
};
struct AdamHyper {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  /// AdamW: weight decay applied to the parameter, not added to the gradient.
  bool decoupled_weight_decay = false;
};
void adam_step_(const std::vector<AdamParam>& params, const AdamHyper& hyper);

}  // namespace nudge

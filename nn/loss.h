#pragma once
/// Loss functions, as functions and as PyTorch-style loss objects. Input and target must have the
/// same shape (no silent broadcasting of [N, 1] against [N]).
#include "core/ops.h"

namespace nudge::nn {

using nudge::Reduction;
// Fused (core/ops_loss.cpp): the loss and its input gradient in one kernel.
using nudge::binary_cross_entropy_with_logits;
using nudge::cross_entropy;
using nudge::mse_loss;

/// |input − target|
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
/// −[t·log p + (1−t)·log(1−p)] on probabilities p, each log clamped at −100 as in PyTorch.
Tensor binary_cross_entropy(const Tensor& probabilities, const Tensor& target, Reduction reduction = Reduction::Mean);

/// A loss as an object: `nn::MSELoss loss; loss(pred, target)`.
template <Tensor (*F)(const Tensor&, const Tensor&, Reduction)>
class Loss {
 public:
  explicit Loss(Reduction reduction = Reduction::Mean) : reduction_(reduction) {}
  Tensor operator()(const Tensor& input, const Tensor& target) const { return F(input, target, reduction_); }
  Tensor forward(const Tensor& input, const Tensor& target) const { return F(input, target, reduction_); }

 private:
  Reduction reduction_;
};

using MSELoss = Loss<mse_loss>;
using L1Loss = Loss<l1_loss>;
using BCELoss = Loss<binary_cross_entropy>;
using BCEWithLogitsLoss = Loss<binary_cross_entropy_with_logits>;
using CrossEntropyLoss = Loss<cross_entropy>;

}  // namespace nudge::nn

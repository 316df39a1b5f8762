#pragma once
/// Loss functions, as functions and as PyTorch-style loss objects. Input and target must have the
/// same shape (no silent broadcasting of [N, 1] against [N]).
#include "core/tensor.h"

namespace nudge::nn {

enum class Reduction { Mean, Sum, None };

/// (input − target)²
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
/// |input − target|
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
/// −[t·log p + (1−t)·log(1−p)] on probabilities p, each log clamped at −100 as in PyTorch.
Tensor binary_cross_entropy(const Tensor& probabilities, const Tensor& target, Reduction reduction = Reduction::Mean);
/// binary_cross_entropy(sigmoid(x), t) computed stably from logits: max(x,0) − x·t + log(1 + e^−|x|).
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction = Reduction::Mean);
/// −log softmax(logits)[target] for logits [N, C] and int64 class targets [N].
Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction = Reduction::Mean);

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

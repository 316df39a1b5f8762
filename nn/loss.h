#pragma once
/// Loss functions, as functions and as PyTorch-style loss objects. Input and target must have the
/// same shape (no silent broadcasting of [N, 1] against [N]).
#include "core/ops.h"
#include "core/ops_spatial.h"

namespace nudge::nn {

using nudge::Reduction;
// Fused (core/ops_loss.cpp): the loss and its input gradient in one kernel.
using nudge::binary_cross_entropy;
using nudge::binary_cross_entropy_with_logits;
using nudge::cross_entropy;
using nudge::mse_loss;

/// |input − target|
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);

/// A loss as an object: `nn::MSELoss loss; loss(pred, target)`.
template <Tensor (*F)(const Tensor&, const Tensor&, Reduction)> class Loss {
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
/// `nn::CrossEntropyLoss loss({.ignore_index = 0}); loss(logits, targets)`.
class CrossEntropyLoss {
 public:
  struct Options {  // designated initialisers in this order: {.reduction, .ignore_index}
    Reduction reduction = Reduction::Mean;
    std::int64_t ignore_index = -100;
  };
  CrossEntropyLoss() = default;
  explicit CrossEntropyLoss(Reduction reduction) : options_{.reduction = reduction} {}
  explicit CrossEntropyLoss(Options options) : options_(options) {}
  Tensor operator()(const Tensor& logits, const Tensor& target) const { return forward(logits, target); }
  Tensor forward(const Tensor& logits, const Tensor& target) const {
    return cross_entropy(logits, target, options_.reduction, options_.ignore_index);
  }

 private:
  Options options_;
};

/// nudge::nll_loss on log-probabilities (after log_softmax): optional per-class weight,
/// ignore_index, reduction. `nn::NLLLoss loss({.weight = w}); loss(log_probs, targets)`.
class NLLLoss {
 public:
  struct Options {  // designated initialisers in this order: {.weight, .ignore_index, .reduction}
    Tensor weight = {};
    std::int64_t ignore_index = -100;
    Reduction reduction = Reduction::Mean;
  };
  NLLLoss() = default;
  explicit NLLLoss(Options options) : options_(std::move(options)) {}
  Tensor operator()(const Tensor& input, const Tensor& target) const { return forward(input, target); }
  Tensor forward(const Tensor& input, const Tensor& target) const {
    return nll_loss(input, target, options_.weight, options_.ignore_index, options_.reduction);
  }

 private:
  Options options_;
};

}  // namespace nudge::nn

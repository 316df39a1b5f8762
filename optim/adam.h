#pragma once
/// Adam and AdamW, following PyTorch's update rule. For parameter p with gradient g at step t:
///
///   Adam:  g ← g + weight_decay · p          AdamW:  p ← p · (1 − lr · weight_decay)
///   m ← β₁ · m + (1 − β₁) · g
///   v ← β₂ · v + (1 − β₂) · g²
///   p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
#include "optim/optimizer.h"

namespace nudge::optim {

/// Designated initialisers follow the field order: `{.lr, .beta1, .beta2, .eps, .weight_decay}`.
struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options);
  /// Groups with their own lr and, optionally, betas, eps and weight_decay (optim/optimizer.h).
  Adam(std::vector<ParamGroup> groups, AdamOptions options);
  void step() override;
  const char* name() const override { return decoupled_ ? "AdamW" : "Adam"; }

 protected:
  /// AdamW: weight decay applied to the parameter directly, not through the gradient.
  Adam(std::vector<ParamGroup> groups, AdamOptions options, bool decoupled_weight_decay);

 private:
  struct State : ParamState {
    /// Steps taken, a float64 on the parameter's device (the update kernel advances it, so that a
    /// step replayed from a Graph counts too); saved as an int64 counter, as before.
    Tensor step;
    Tensor exp_avg, exp_avg_sq;
    void fields(const std::function<void(const char*, Tensor&)>& tensor,
                const std::function<void(const char*, std::int64_t&)>& counter) override;
  };
  std::shared_ptr<ParamState> make_state() const override { return std::make_shared<State>(); }
  AdamOptions options_;
  bool decoupled_;
};

/// AdamW's options: Adam's, with PyTorch's AdamW default weight_decay of 0.01 (ported code that
/// relies on the default must not silently train without decay). Fields in this order.
struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;
};

/// Adam with decoupled weight decay (Loshchilov & Hutter).
class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, AdamWOptions options = {})
      : AdamW(std::vector<ParamGroup>{ParamGroup(std::move(params), options.lr)}, options) {}
  /// Groups with their own lr and, optionally, betas, eps and weight_decay (optim/optimizer.h).
  AdamW(std::vector<ParamGroup> groups, AdamWOptions options = {})
      : Adam(std::move(groups),
             AdamOptions{options.lr, options.beta1, options.beta2, options.eps, options.weight_decay}, true) {}
};

}  // namespace nudge::optim

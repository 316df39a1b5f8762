#pragma once
/// optim::Optimizer: parameter groups (each with its own learning rate) and per-parameter state.
/// step() runs under NoGradGuard and updates parameters in place.
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/tensor.h"

namespace nudge::optim {

struct ParamGroup {
  std::vector<Tensor> params;
  double lr;
};

class Optimizer {
 public:
  explicit Optimizer(std::vector<ParamGroup> groups);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// One update of every parameter that has a gradient.
  virtual void step() = 0;
  /// Clears gradients: to undefined (the default, as PyTorch ≥ 2.0) or to zeros.
  void zero_grad(bool set_to_none = true);

  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  /// Learning rate of the first group; set_lr sets every group's.
  double lr() const { return groups_.front().lr; }
  void set_lr(double lr);

 protected:
  /// State of one parameter (created on first use), keyed by the parameter's identity.
  template <class State>
  State& state_of(const Tensor& p) {
    auto& slot = state_[p.impl_ptr().get()];
    if (!slot) slot = std::make_shared<State>();
    return *std::static_pointer_cast<State>(slot);
  }

 private:
  std::vector<ParamGroup> groups_;
  std::unordered_map<const TensorImpl*, std::shared_ptr<void>> state_;
};

}  // namespace nudge::optim

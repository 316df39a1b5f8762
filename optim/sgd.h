#pragma once
/// Stochastic gradient descent, following PyTorch's update rule exactly. For each parameter p
/// with gradient g, at step t:
///
///   g ← g + weight_decay · p
///   if momentum ≠ 0:
///     b ← g                                   (t = 1)
///     b ← momentum · b + (1 − dampening) · g  (t > 1)
///     g ← g + momentum · b   if nesterov, else   g ← b
///   p ← p − lr · g
#include "optim/optimizer.h"

namespace nudge::optim {

/// C++20 designated initialisers must follow the field order:
/// `SGDOptions{.lr = 0.1, .momentum = 0.9, .dampening = 0, .weight_decay = 1e-4, .nesterov = true}`.
struct SGDOptions {
  double lr = 0.01;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SGDOptions options);
  SGD(std::vector<ParamGroup> groups, SGDOptions options);
  void step() override;
  const char* name() const override { return "SGD"; }
  /// The options, with `lr` read live from the first parameter group (schedulers change it there).
  SGDOptions options() const {
    SGDOptions o = options_;
    o.lr = lr();
    return o;
  }

 private:
  struct State : ParamState {
    Tensor momentum_buffer;
    void fields(const std::function<void(const char*, Tensor&)>& tensor,
                const std::function<void(const char*, std::int64_t&)>&) override {
      tensor("momentum_buffer", momentum_buffer);
    }
  };
  std::shared_ptr<ParamState> make_state() const override { return std::make_shared<State>(); }
  SGDOptions options_;
};

}  // namespace nudge::optim

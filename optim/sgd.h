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
  const SGDOptions& options() const { return options_; }

 private:
  struct State {
    Tensor momentum_buffer;
  };
  SGDOptions options_;
};

}  // namespace nudge::optim

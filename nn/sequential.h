#pragma once
/// nn::Sequential: a ModuleList whose forward applies its children in order, named "0", "1", ...
/// It only composes: for the fused Dense + activation kernels write
/// `Linear(in, out, Activation::ReLU)`, not `Linear, ReLU()`.
#include "nn/module_list.h"

namespace nudge::nn {

class Sequential : public ModuleList {
 public:
  /// `Sequential(Linear(2, 16), Sigmoid(), Linear(16, 1))`, or shared_ptrs to modules.
  using ModuleList::ModuleList;
  Sequential() = default;

  Tensor forward(const Tensor& x) override;
};

}  // namespace nudge::nn

#pragma once
/// nn::Sequential: children applied in order, named "0", "1", ... It only composes: for the fused
/// Dense + activation kernels write `Linear(in, out, Activation::ReLU)`, not `Linear, ReLU()`.
#include <memory>
#include <type_traits>

#include "nn/module.h"

namespace nudge::nn {

class Sequential : public Module {
 public:
  Sequential() = default;
  /// `Sequential(Linear(2, 16), Sigmoid(), Linear(16, 1))`, or shared_ptrs to modules.
  template <class... Modules> explicit Sequential(Modules&&... modules) {
    (push_back(std::forward<Modules>(modules)), ...);
  }

  template <class M> void push_back(M&& module) {
    if constexpr (std::is_convertible_v<M, std::shared_ptr<Module>>)
      append(std::shared_ptr<Module>(std::forward<M>(module)));
    else append(std::make_shared<std::decay_t<M>>(std::forward<M>(module)));
  }

  Tensor forward(const Tensor& x) override;
  std::size_t size() const { return layers_.size(); }
  const std::shared_ptr<Module>& operator[](std::size_t i) const { return layers_.at(i); }

 private:
  void append(std::shared_ptr<Module> module);
  std::vector<std::shared_ptr<Module>> layers_;
};

}  // namespace nudge::nn

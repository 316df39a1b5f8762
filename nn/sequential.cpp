#include "nn/sequential.h"

#include "nn/linear.h"

namespace nudge::nn {

void Sequential::append(std::shared_ptr<Module> module) {
  register_module(std::to_string(layers_.size()), module);
  layers_.push_back(std::move(module));
}

namespace {
/// The activation a Sigmoid/ReLU/Tanh module applies; Identity for any other module.
Activation activation_of(const Module& m) {
  if (dynamic_cast<const Sigmoid*>(&m)) return Activation::Sigmoid;
  if (dynamic_cast<const ReLU*>(&m)) return Activation::ReLU;
  if (dynamic_cast<const Tanh*>(&m)) return Activation::Tanh;
  return Activation::Identity;
}
}  // namespace

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    // Linear (without its own activation) followed by an activation module: one fused op.
    auto* dense = dynamic_cast<Linear*>(layers_[i].get());
    if (dense && dense->activation == Activation::Identity && i + 1 < layers_.size()) {
      const Activation next = activation_of(*layers_[i + 1]);
      if (next != Activation::Identity) {
        y = dense->forward_fused(y, next);
        ++i;
        continue;
      }
    }
    y = layers_[i]->forward(y);
  }
  return y;
}

}  // namespace nudge::nn

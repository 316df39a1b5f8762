#include "nn/sequential.h"

namespace nudge::nn {

void Sequential::append(std::shared_ptr<Module> module) {
  register_module(std::to_string(layers_.size()), module);
  layers_.push_back(std::move(module));
}

// Only composes: a fused Dense + activation is the explicit nn::Linear(in, out, activation).
Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& layer : layers_) y = layer->forward(y);
  return y;
}

}  // namespace nudge::nn

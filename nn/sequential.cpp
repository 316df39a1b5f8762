#include "nn/sequential.h"

namespace nudge::nn {

// Only composes: a fused Dense + activation is the explicit nn::Linear(in, out, activation).
Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& layer : *this) y = layer->forward(y);
  return y;
}

}  // namespace nudge::nn

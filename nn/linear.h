#pragma once
/// nn::Linear (alias nn::Dense): y = act(x · Wᵀ + b), W of shape [out, in]. The activation option
/// is how a layer is fused with its activation: Linear(in, out, Activation::Sigmoid).
#include "core/generator.h"
#include "nn/activation.h"
#include "nn/module.h"

namespace nudge::nn {

/// Fields in this order (C++20 designated initialisers must follow it):
/// `LinearOptions{.bias = false, .activation = Activation::GELU, .generator = &gen}`.
struct LinearOptions {
  bool bias = true;
  /// Fused into the layer's kernels: an Activation, or one with its parameter
  /// (`{Activation::LeakyReLU, 0.2}`).
  ActivationSpec activation = Activation::Identity;
  /// Where the initial weights are drawn from (null: the default generator). Threads that build
  /// models at the same time each pass their own for reproducible weights.
  Generator* generator = nullptr;
};

class Linear : public Module {
 public:
  /// PyTorch's default initialisation: W and b ~ U(−1/√in, 1/√in) (kaiming_uniform with
  /// a = √5), drawn from options.generator or the default one (seed it with nudge::manual_seed).
  Linear(std::int64_t in_features, std::int64_t out_features, LinearOptions options = {});
  Linear(std::int64_t in_features, std::int64_t out_features, ActivationSpec activation)
      : Linear(in_features, out_features, LinearOptions{true, activation}) {}

  /// act(x·Wᵀ + b) as ONE fused op (nudge::linear): a GEMM and one bias+activation kernel.
  Tensor forward(const Tensor& x) override;

  Tensor weight;
  Tensor bias;  // undefined without bias
  ActivationSpec activation;
};

using Dense = Linear;

}  // namespace nudge::nn

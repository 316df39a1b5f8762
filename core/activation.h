#pragma once
#include <cstdint>

namespace nudge {

/// The activations a Dense layer fuses into its kernels (nudge::linear, nn::Linear), and that
/// nudge::activation applies on their own: one kernel forward, one backward.
enum class Activation : std::uint8_t {
  Identity,
  Sigmoid,
  ReLU,
  Tanh,
  GELU,       // x·Φ(x), exact (erf)
  GELUTanh,   // GELU's tanh approximation (PyTorch's approximate='tanh')
  SiLU,       // x·σ(x), also called swish
  LeakyReLU,  // x > 0 ? x : slope·x; param = negative slope (0.01)
  Softplus,   // log(1 + e^(βx))/β, x where βx > threshold; param = β (1), threshold (20)
  ELU,        // x > 0 ? x : α(e^x − 1); param = α (1)
};

/// The parameter an activation takes when none is given (PyTorch's defaults).
constexpr double default_activation_param(Activation kind) {
  switch (kind) {
    case Activation::LeakyReLU: return 0.01;
    case Activation::Softplus:
    case Activation::ELU: return 1.0;
    case Activation::Identity:
    case Activation::Sigmoid:
    case Activation::ReLU:
    case Activation::Tanh:
    case Activation::GELU:
    case Activation::GELUTanh:
    case Activation::SiLU: return 0.0;
  }
  return 0.0;
}

/// An activation with its parameters. Converts implicitly from an Activation (PyTorch's defaults),
/// so `Linear(4, 8, Activation::GELU)` and `Linear(4, 8, {Activation::LeakyReLU, 0.2})` both work.
struct ActivationSpec {
  Activation kind = Activation::Identity;
  /// LeakyReLU's negative slope, ELU's α, Softplus's β; unused by the others.
  double param = 0.0;
  /// Softplus only: where βx exceeds it, softplus(x) = x (PyTorch's threshold).
  double threshold = 20.0;

  constexpr ActivationSpec() = default;
  constexpr ActivationSpec(Activation k) : kind(k), param(default_activation_param(k)) {}  // NOLINT: implicit by design
  constexpr ActivationSpec(Activation k, double p, double t = 20.0) : kind(k), param(p), threshold(t) {}
  friend constexpr bool operator==(const ActivationSpec&, const ActivationSpec&) = default;
};

/// "gelu", "leaky_relu", ...: the name an activation's node and messages carry.
constexpr const char* activation_name(Activation kind) {
  switch (kind) {
    case Activation::Identity: return "identity";
    case Activation::Sigmoid: return "sigmoid";
    case Activation::ReLU: return "relu";
    case Activation::Tanh: return "tanh";
    case Activation::GELU: return "gelu";
    case Activation::GELUTanh: return "gelu_tanh";
    case Activation::SiLU: return "silu";
    case Activation::LeakyReLU: return "leaky_relu";
    case Activation::Softplus: return "softplus";
    case Activation::ELU: return "elu";
  }
  return "activation";
}

/// How a loss turns per-element (or per-sample) values into its result: their mean, their sum,
/// or all of them unreduced (PyTorch's `reduction=`).
enum class Reduction : std::uint8_t { Mean, Sum, None };

/// The losses computed with their input gradient in one fused kernel (core/ops_loss.cpp).
enum class LossKind : std::uint8_t { MSE, BCEWithLogits, CrossEntropy };

}  // namespace nudge

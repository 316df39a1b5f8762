#pragma once
#include <cstdint>

namespace nudge {

/// The activations a Dense layer fuses into its kernels (nudge::linear, nn::Linear).
enum class Activation : std::uint8_t { Identity, Sigmoid, ReLU, Tanh };

/// How a loss turns per-element (or per-sample) values into its result: their mean, their sum,
/// or all of them unreduced (PyTorch's `reduction=`).
enum class Reduction : std::uint8_t { Mean, Sum, None };

/// The losses computed with their input gradient in one fused kernel (core/ops_loss.cpp).
enum class LossKind : std::uint8_t { MSE, BCEWithLogits, CrossEntropy };

}  // namespace nudge

#pragma once
#include <cstdint>

namespace nudge {

/// The activations a Dense layer fuses into its kernels (nudge::linear, nn::Linear).
enum class Activation : std::uint8_t { Identity, Sigmoid, ReLU, Tanh };

}  // namespace nudge

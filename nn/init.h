#pragma once
/// Parameter initialisation, as torch.nn.init. Values are drawn on the host from a seeded
/// Generator (the default one unless given), so a model starts from the same weights on every
/// device. Each function fills `t` in place (without recording) and returns it.
#include "core/generator.h"
#include "core/tensor.h"

namespace nudge::nn::init {

enum class FanMode { FanIn, FanOut };

Tensor& uniform_(Tensor& t, double low, double high, Generator& gen = default_generator());
Tensor& normal_(Tensor& t, double mean, double std, Generator& gen = default_generator());
Tensor& constant_(Tensor& t, double value);
/// U(−a, a) with a = gain·√(6 / (fan_in + fan_out)).
Tensor& xavier_uniform_(Tensor& t, double gain = 1.0, Generator& gen = default_generator());
/// N(0, σ²) with σ = gain·√(2 / (fan_in + fan_out)).
Tensor& xavier_normal_(Tensor& t, double gain = 1.0, Generator& gen = default_generator());
/// U(−b, b) with b = √3·gain/√fan, gain = √(2 / (1 + a²)) (leaky-ReLU slope a; a = 0 is ReLU).
Tensor& kaiming_uniform_(Tensor& t, double a = 0, FanMode mode = FanMode::FanIn, Generator& gen = default_generator());
/// N(0, σ²) with σ = gain/√fan.
Tensor& kaiming_normal_(Tensor& t, double a = 0, FanMode mode = FanMode::FanIn, Generator& gen = default_generator());

/// (fan_in, fan_out) of a weight: [out, in] for a 2-D tensor.
std::pair<std::int64_t, std::int64_t> fans(const Tensor& t);

}  // namespace nudge::nn::init

#include "nn/init.h"

#include <cmath>

#include "core/autograd/grad_mode.h"
#include "core/factory.h"
#include "core/ops.h"

namespace nudge::nn::init {

namespace {
Tensor& assign(Tensor& t, const Tensor& values) {
  NoGradGuard no_grad;
  t.copy_(values);
  return t;
}
double kaiming_gain(double a) { return std::sqrt(2.0 / (1.0 + a * a)); }
}  // namespace

std::pair<std::int64_t, std::int64_t> fans(const Tensor& t) {
  NUDGE_CHECK(t.dim() >= 2, "init: fan_in/fan_out need a tensor with at least 2 dims, got a ", describe(t));
  std::int64_t receptive = 1;
  for (std::int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

Tensor& uniform_(Tensor& t, double low, double high, Generator& gen) {
  return assign(t, rand(t.shape(), gen, kFloat64) * (high - low) + low);
}

Tensor& normal_(Tensor& t, double mean, double std, Generator& gen) {
  return assign(t, randn(t.shape(), gen, kFloat64) * std + mean);
}

Tensor& constant_(Tensor& t, double value) {
  NoGradGuard no_grad;
  return t.fill_(value);
}

Tensor& xavier_uniform_(Tensor& t, double gain, Generator& gen) {
  const auto [in, out] = fans(t);
  const double a = gain * std::sqrt(6.0 / static_cast<double>(in + out));
  return uniform_(t, -a, a, gen);
}

Tensor& xavier_normal_(Tensor& t, double gain, Generator& gen) {
  const auto [in, out] = fans(t);
  return normal_(t, 0, gain * std::sqrt(2.0 / static_cast<double>(in + out)), gen);
}

Tensor& kaiming_uniform_(Tensor& t, double a, FanMode mode, Generator& gen) {
  const auto [in, out] = fans(t);
  const double fan = static_cast<double>(mode == FanMode::FanIn ? in : out);
  const double bound = std::sqrt(3.0) * kaiming_gain(a) / std::sqrt(fan);
  return uniform_(t, -bound, bound, gen);
}

Tensor& kaiming_normal_(Tensor& t, double a, FanMode mode, Generator& gen) {
  const auto [in, out] = fans(t);
  const double fan = static_cast<double>(mode == FanMode::FanIn ? in : out);
  return normal_(t, 0, kaiming_gain(a) / std::sqrt(fan), gen);
}

}  // namespace nudge::nn::init

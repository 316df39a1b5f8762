#include "nn/dropout.h"

#include "core/factory.h"
#include "core/ops.h"

namespace nudge::nn {

Tensor dropout(const Tensor& x, double p, bool training, Generator& generator) {
  NUDGE_CHECK(p >= 0 && p <= 1, "dropout: probability has to be between 0 and 1, but got ", p);
  NUDGE_CHECK(x.defined() && is_floating(x.dtype()), "dropout: expects a float tensor, got ",
              x.defined() ? describe(x) : std::string("an undefined tensor"));
  if (!training || p == 0) return x;
  if (p == 1) return x * 0.0;  // everything dropped (PyTorch gives zeros, not 0/0)
  const Tensor keep = bernoulli(x.shape(), 1 - p, generator, TensorOptions(x.dtype()).device(x.device()));
  return x * (keep * (1.0 / (1 - p)));
}

Tensor dropout2d(const Tensor& x, double p, bool training, Generator& generator) {
  NUDGE_CHECK(p >= 0 && p <= 1, "dropout2d: probability has to be between 0 and 1, but got ", p);
  NUDGE_CHECK(x.defined() && is_floating(x.dtype()) && (x.dim() == 3 || x.dim() == 4),
              "dropout2d: expects a float [N, C, H, W] or [C, H, W] tensor, got ",
              x.defined() ? describe(x) : std::string("an undefined tensor"));
  if (!training || p == 0) return x;
  if (p == 1) return x * 0.0;
  Shape channels = x.shape();  // one draw per channel, broadcast over H and W
  channels[channels.size() - 1] = 1;
  channels[channels.size() - 2] = 1;
  const Tensor keep = bernoulli(channels, 1 - p, generator, TensorOptions(x.dtype()).device(x.device()));
  return x * (keep * (1.0 / (1 - p)));
}

Dropout2d::Dropout2d(double p, Generator* generator) : p_(p), generator_(generator) {
  NUDGE_CHECK(p >= 0 && p <= 1, "nn::Dropout2d: probability has to be between 0 and 1, but got ", p);
}

Tensor Dropout2d::forward(const Tensor& x) {
  return dropout2d(x, p_, is_training(), generator_ != nullptr ? *generator_ : default_generator());
}

Dropout::Dropout(double p, Generator* generator) : p_(p), generator_(generator) {
  NUDGE_CHECK(p >= 0 && p <= 1, "nn::Dropout: probability has to be between 0 and 1, but got ", p);
}

Tensor Dropout::forward(const Tensor& x) {
  return dropout(x, p_, is_training(), generator_ != nullptr ? *generator_ : default_generator());
}

}  // namespace nudge::nn

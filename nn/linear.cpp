#include "nn/linear.h"

#include <cmath>

#include "core/factory.h"
#include "nn/init.h"

namespace nudge::nn {

Linear::Linear(std::int64_t in_features, std::int64_t out_features, LinearOptions options)
    : activation(options.activation) {
  NUDGE_CHECK(in_features > 0 && out_features > 0, "Linear: features must be positive, got in=", in_features,
              " out=", out_features);
  Generator& generator = options.generator != nullptr ? *options.generator : default_generator();
  weight = register_parameter("weight", empty({out_features, in_features}));
  init::kaiming_uniform_(weight, std::sqrt(5.0), init::FanMode::FanIn, generator);
  if (options.bias) {
    bias = register_parameter("bias", empty({out_features}));
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    init::uniform_(bias, -bound, bound, generator);
  }
}

Tensor Linear::forward(const Tensor& x) {
  NUDGE_CHECK(x.dim() >= 1 && x.size(-1) == weight.size(1), "Linear: expected input with last dim ", weight.size(1),
              ", got a ", describe(x));
  return linear(x, weight, bias, activation);
}

}  // namespace nudge::nn

#include "nn/conv.h"

#include <cmath>

#include "core/factory.h"
#include "nn/init.h"

namespace nudge::nn {

namespace {

/// PyTorch's reset_parameters for every convolution: weight by kaiming_uniform(a = √5) (bound
/// 1/√fan_in), bias U(−1/√fan_in, 1/√fan_in), fan_in from the weight's dims 1.. (init::fans).
void init_conv(Tensor& weight, Tensor& bias, Generator* generator) {
  Generator& gen = generator != nullptr ? *generator : default_generator();
  init::kaiming_uniform_(weight, std::sqrt(5.0), init::FanMode::FanIn, gen);
  if (bias.defined()) {
    const double fan_in = static_cast<double>(weight.numel() / weight.size(0));
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(fan_in) : 0.0;
    init::uniform_(bias, -bound, bound, gen);
  }
}

void check_channels(std::int64_t in, std::int64_t out, std::int64_t groups, const char* layer) {
  NUDGE_CHECK(in > 0 && out > 0, layer, ": channels must be positive, got in=", in, " out=", out);
  NUDGE_CHECK(groups > 0 && in % groups == 0 && out % groups == 0, layer, ": in_channels ", in, " and out_channels ",
              out, " must both be divisible by groups=", groups);
}

}  // namespace

Conv2d::Conv2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size, Conv2dOptions options)
    : options_(options) {
  check_channels(in_channels, out_channels, options.groups, "nn::Conv2d");
  weight =
      register_parameter("weight", empty({out_channels, in_channels / options.groups, kernel_size.h, kernel_size.w}));
  if (options.bias) bias = register_parameter("bias", empty({out_channels}));
  init_conv(weight, bias, options.generator);
}

Tensor Conv2d::forward(const Tensor& x) {
  return conv2d(x, weight, bias, options_.stride, options_.padding, options_.dilation, options_.groups,
                options_.activation);
}

Conv1d::Conv1d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size, Options options)
    : options_(options) {
  check_channels(in_channels, out_channels, options.groups, "nn::Conv1d");
  weight = register_parameter("weight", empty({out_channels, in_channels / options.groups, kernel_size}));
  if (options.bias) bias = register_parameter("bias", empty({out_channels}));
  init_conv(weight, bias, options.generator);
}

Tensor Conv1d::forward(const Tensor& x) {
  return conv1d(x, weight, bias, options_.stride, options_.padding, options_.dilation, options_.groups);
}

ConvTranspose2d::ConvTranspose2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size,
                                 Options options)
    : options_(options) {
  check_channels(in_channels, out_channels, options.groups, "nn::ConvTranspose2d");
  weight =
      register_parameter("weight", empty({in_channels, out_channels / options.groups, kernel_size.h, kernel_size.w}));
  if (options.bias) bias = register_parameter("bias", empty({out_channels}));
  init_conv(weight, bias, options.generator);
}

Tensor ConvTranspose2d::forward(const Tensor& x) {
  return conv_transpose2d(x, weight, bias, options_.stride, options_.padding, options_.output_padding, options_.groups,
                          options_.dilation);
}

}  // namespace nudge::nn

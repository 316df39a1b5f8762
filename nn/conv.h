#pragma once
/// Convolution layers (nudge::conv1d / conv2d / conv_transpose2d) with PyTorch's parameter names,
/// shapes and default initialisation, so a state_dict crosses with PyTorch both ways. An
/// activation given in the options is fused with the bias, as in nn::Linear.
#include "core/generator.h"
#include "core/ops_spatial.h"
#include "nn/module.h"

namespace nudge::nn {

/// Designated initialisers follow the field order:
/// `Conv2dOptions{.stride = 2, .padding = 1, .bias = false}`.
struct Conv2dOptions {
  Size2 stride = 1;
  Size2 padding = 0;
  Size2 dilation = 1;
  std::int64_t groups = 1;
  bool bias = true;
  /// Fused with the bias (Conv2d only): an Activation or one with its parameter.
  ActivationSpec activation = Activation::Identity;
  /// Where the initial weights are drawn from (null: the default generator).
  Generator* generator = nullptr;
};

/// weight [out_channels, in_channels / groups, kH, kW], bias [out_channels]; both
/// U(−1/√fan_in, 1/√fan_in) with fan_in = in_channels / groups · kH · kW (PyTorch's
/// kaiming_uniform with a = √5).
class Conv2d : public Module {
 public:
  Conv2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size, Conv2dOptions options = {});
  Tensor forward(const Tensor& x) override;

  Tensor weight;
  Tensor bias;  // undefined without bias

 private:
  Conv2dOptions options_;
};

/// `Conv1dOptions{.stride, .padding, .dilation, .groups, .bias, .generator}`.
struct Conv1dOptions {
  std::int64_t stride = 1, padding = 0, dilation = 1, groups = 1;
  bool bias = true;
  Generator* generator = nullptr;
};

/// weight [out_channels, in_channels / groups, k] over [N, C, L] inputs.
class Conv1d : public Module {
 public:
  using Options = Conv1dOptions;
  Conv1d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size, Options options = {});
  Tensor forward(const Tensor& x) override;

  Tensor weight;
  Tensor bias;

 private:
  Options options_;
};

/// `ConvTranspose2dOptions{.stride, .padding, .output_padding, .groups, .bias, .dilation, .generator}`.
struct ConvTranspose2dOptions {
  Size2 stride = 1, padding = 0, output_padding = 0;
  std::int64_t groups = 1;
  bool bias = true;
  Size2 dilation = 1;
  Generator* generator = nullptr;
};

/// The upsampling convolution: weight [in_channels, out_channels / groups, kH, kW] (PyTorch's
/// layout), fan_in computed from it as PyTorch does (out_channels / groups · kH · kW).
class ConvTranspose2d : public Module {
 public:
  using Options = ConvTranspose2dOptions;
  ConvTranspose2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size, Options options = {});
  Tensor forward(const Tensor& x) override;

  Tensor weight;
  Tensor bias;

 private:
  Options options_;
};

}  // namespace nudge::nn

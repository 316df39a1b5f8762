#pragma once
/// Pooling, resampling and reshaping layers (no parameters), PyTorch's names and defaults:
/// MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Upsample (nearest, integer scale), Flatten, Unflatten.
#include <optional>
#include <vector>

#include "core/ops_spatial.h"
#include "nn/module.h"

namespace nudge::nn {

/// stride defaults to kernel_size, as in PyTorch.
class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(Size2 kernel_size, std::optional<Size2> stride = std::nullopt, Size2 padding = 0,
                     Size2 dilation = 1, bool ceil_mode = false)
      : kernel_(kernel_size), stride_(stride), padding_(padding), dilation_(dilation), ceil_mode_(ceil_mode) {}
  Tensor forward(const Tensor& x) override { return max_pool2d(x, kernel_, stride_, padding_, dilation_, ceil_mode_); }

 private:
  Size2 kernel_;
  std::optional<Size2> stride_;
  Size2 padding_, dilation_;
  bool ceil_mode_;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(Size2 kernel_size, std::optional<Size2> stride = std::nullopt, Size2 padding = 0,
                     bool ceil_mode = false, bool count_include_pad = true,
                     std::optional<std::int64_t> divisor_override = std::nullopt)
      : kernel_(kernel_size),
        stride_(stride),
        padding_(padding),
        ceil_mode_(ceil_mode),
        count_include_pad_(count_include_pad),
        divisor_override_(divisor_override) {}
  Tensor forward(const Tensor& x) override {
    return avg_pool2d(x, kernel_, stride_, padding_, ceil_mode_, count_include_pad_, divisor_override_);
  }

 private:
  Size2 kernel_;
  std::optional<Size2> stride_;
  Size2 padding_;
  bool ceil_mode_, count_include_pad_;
  std::optional<std::int64_t> divisor_override_;
};

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Size2 output_size) : output_size_(output_size) {}
  Tensor forward(const Tensor& x) override { return adaptive_avg_pool2d(x, output_size_); }

 private:
  Size2 output_size_;
};

/// Nearest-neighbour upsampling by an integer factor (nn.Upsample(scale_factor=k), mode "nearest").
class Upsample : public Module {
 public:
  explicit Upsample(std::int64_t scale_factor) : scale_factor_(scale_factor) {}
  Tensor forward(const Tensor& x) override { return interpolate_nearest(x, scale_factor_); }

 private:
  std::int64_t scale_factor_;
};

/// Dims start_dim..end_dim as one (PyTorch's defaults keep the batch dim: 1..−1).
class Flatten : public Module {
 public:
  explicit Flatten(std::int64_t start_dim = 1, std::int64_t end_dim = -1) : start_(start_dim), end_(end_dim) {}
  Tensor forward(const Tensor& x) override { return flatten(x, start_, end_); }

 private:
  std::int64_t start_, end_;
};

class Unflatten : public Module {
 public:
  Unflatten(std::int64_t dim, std::vector<std::int64_t> sizes) : dim_(dim), sizes_(std::move(sizes)) {}
  Tensor forward(const Tensor& x) override { return unflatten(x, dim_, sizes_); }

 private:
  std::int64_t dim_;
  std::vector<std::int64_t> sizes_;
};

}  // namespace nudge::nn

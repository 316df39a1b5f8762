#pragma once
/// Normalisation layers, composed of nudge ops (mean, var, sqrt, ...) on every device.
///   LayerNorm:   normalises each sample over its last dims; the same in train and eval.
///   BatchNorm1d, BatchNorm2d: normalise each channel over the batch (and positions) in training,
///                keeping running statistics (buffers) that eval uses instead.
///   GroupNorm:   normalises each sample over groups of channels; the same in train and eval.
#include <optional>

#include "nn/module.h"

namespace nudge::nn {

class LayerNorm : public Module {
 public:
  /// Normalises over the trailing dims `normalized_shape`; learnable weight (1s) and bias (0s)
  /// of that shape when `elementwise_affine`.
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true);
  Tensor forward(const Tensor& x) override;

  Tensor weight;  // undefined without elementwise_affine
  Tensor bias;

 private:
  Shape normalized_shape_;
  double eps_;
};

/// Designated initialisers follow the field order: `{.eps, .momentum, .affine, .track_running_stats}`.
struct BatchNormOptions {
  double eps = 1e-5;
  /// Running statistics move by this fraction of each batch's; std::nullopt: a cumulative
  /// average over all batches (PyTorch's momentum=None).
  std::optional<double> momentum = 0.1;
  /// Learnable weight (1s) and bias (0s).
  bool affine = true;
  /// Keep running_mean/running_var (buffers); without them eval normalises with batch statistics.
  bool track_running_stats = true;
};

/// Batch normalisation per channel C (nudge::batch_norm), the input's rank checked by the subclass.
class BatchNorm : public Module {
 public:
  Tensor forward(const Tensor& x) override;

  Tensor weight, bias;               // parameters (undefined without affine)
  Tensor running_mean, running_var;  // buffers (undefined without track_running_stats)
  Tensor num_batches_tracked;        // int64 buffer

 protected:
  BatchNorm(std::int64_t num_features, BatchNormOptions options, const char* name);
  /// Throws unless x has a rank this layer takes and num_features channels.
  virtual void check_input(const Tensor& x) const = 0;
  std::int64_t num_features_;
  const char* name_;

 private:
  BatchNormOptions options_;
};

/// Over [N, C] or [N, C, L] inputs.
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(std::int64_t num_features, BatchNormOptions options = {})
      : BatchNorm(num_features, options, "nn::BatchNorm1d") {}

 private:
  void check_input(const Tensor& x) const override;
};

/// Over images [N, C, H, W].
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(std::int64_t num_features, BatchNormOptions options = {})
      : BatchNorm(num_features, options, "nn::BatchNorm2d") {}

 private:
  void check_input(const Tensor& x) const override;
};

/// Normalises each sample over groups of num_channels / num_groups channels (and all positions),
/// the same in train and eval (nudge::group_norm); learnable weight (1s) and bias (0s) per channel.
class GroupNorm : public Module {
 public:
  GroupNorm(std::int64_t num_groups, std::int64_t num_channels, double eps = 1e-5, bool affine = true);
  Tensor forward(const Tensor& x) override;

  Tensor weight, bias;  // undefined without affine

 private:
  std::int64_t num_groups_, num_channels_;
  double eps_;
};

}  // namespace nudge::nn

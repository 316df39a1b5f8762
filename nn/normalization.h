#pragma once
/// Normalisation layers, composed of nudge ops (mean, var, sqrt, ...) on every device.
///   LayerNorm:   normalises each sample over its last dims; the same in train and eval.
///   BatchNorm1d: normalises each feature over the batch in training, keeping running statistics
///                (buffers) that eval uses instead.
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

/// Over [N, C] or [N, C, L] inputs, per feature C.
class BatchNorm1d : public Module {
 public:
  explicit BatchNorm1d(std::int64_t num_features, BatchNormOptions options = {});
  Tensor forward(const Tensor& x) override;

  Tensor weight, bias;               // parameters (undefined without affine)
  Tensor running_mean, running_var;  // buffers (undefined without track_running_stats)
  Tensor num_batches_tracked;        // int64 buffer

 private:
  std::int64_t num_features_;
  BatchNormOptions options_;
};

}  // namespace nudge::nn

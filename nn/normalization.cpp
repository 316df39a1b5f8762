#include "nn/normalization.h"

#include "core/autograd/grad_mode.h"
#include "core/factory.h"
#include "core/ops.h"

namespace nudge::nn {

LayerNorm::LayerNorm(Shape normalized_shape, double eps, bool elementwise_affine)
    : normalized_shape_(std::move(normalized_shape)), eps_(eps) {
  NUDGE_CHECK(!normalized_shape_.empty(), "nn::LayerNorm: normalized_shape must name at least one dim");
  NUDGE_CHECK(eps >= 0, "nn::LayerNorm: eps must be non-negative, got ", eps);
  if (elementwise_affine) {
    weight = register_parameter("weight", ones(normalized_shape_));
    bias = register_parameter("bias", zeros(normalized_shape_));
  }
}

Tensor LayerNorm::forward(const Tensor& x) {
  const std::int64_t k = static_cast<std::int64_t>(normalized_shape_.size());
  bool fits = x.dim() >= k;
  for (std::int64_t i = 0; fits && i < k; ++i) fits = x.size(x.dim() - k + i) == normalized_shape_[i];
  NUDGE_CHECK(fits, "nn::LayerNorm: expected input with trailing shape ", shape_str(normalized_shape_), ", got a ",
              describe(x));
  // The normalised dims as one: [..., N].
  Shape rows = x.shape();
  rows.resize(rows.size() - k);
  rows.push_back(numel_of(normalized_shape_));
  const Tensor flat = x.reshape(rows);
  const Tensor centred = flat - mean(flat, -1, true);
  Tensor y = (centred / sqrt(var(flat, -1, /*unbiased=*/false, true) + eps_)).reshape(x.shape());
  if (weight.defined()) y = y * weight + bias;
  return y;
}

BatchNorm1d::BatchNorm1d(std::int64_t num_features, BatchNormOptions options)
    : num_features_(num_features), options_(options) {
  NUDGE_CHECK(num_features > 0, "nn::BatchNorm1d: num_features must be positive, got ", num_features);
  NUDGE_CHECK(options.eps >= 0, "nn::BatchNorm1d: eps must be non-negative, got ", options.eps);
  NUDGE_CHECK(!options.momentum || (*options.momentum >= 0 && *options.momentum <= 1),
              "nn::BatchNorm1d: momentum must be in [0, 1], got ", options.momentum.value_or(0));
  if (options.affine) {
    weight = register_parameter("weight", ones({num_features}));
    bias = register_parameter("bias", zeros({num_features}));
  }
  if (options.track_running_stats) {
    running_mean = register_buffer("running_mean", zeros({num_features}));
    running_var = register_buffer("running_var", ones({num_features}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, kInt64));
  }
}

Tensor BatchNorm1d::forward(const Tensor& x) {
  NUDGE_CHECK((x.dim() == 2 || x.dim() == 3) && x.size(1) == num_features_, "nn::BatchNorm1d: expected input [N, ",
              num_features_, "] or [N, ", num_features_, ", L], got a ", describe(x));
  // Features last, everything else as rows: [N·L, C].
  const Tensor rows = x.dim() == 3 ? x.transpose(1, 2).reshape({-1, num_features_}) : x;
  const bool use_batch = is_training() || !options_.track_running_stats;
  Tensor mu, variance;
  if (use_batch) {
    NUDGE_CHECK(rows.size(0) > 1, "nn::BatchNorm1d: expected more than 1 value per channel when training, got input ",
                describe(x));
    mu = mean(rows, 0);
    variance = var(rows, 0, /*unbiased=*/false);
  } else {
    mu = running_mean;
    variance = running_var;
  }
  if (is_training() && options_.track_running_stats) {
    NoGradGuard no_grad;
    num_batches_tracked.add_(1);
    const double m = options_.momentum ? *options_.momentum : 1.0 / num_batches_tracked.item<double>();
    // The running variance is the unbiased one, as in PyTorch.
    const double n = static_cast<double>(rows.size(0));
    running_mean.mul_(1 - m).add_(mu.detach() * m);
    running_var.mul_(1 - m).add_(variance.detach() * (m * n / (n - 1)));
  }
  Tensor y = (rows - mu) / sqrt(variance + options_.eps);
  if (weight.defined()) y = y * weight + bias;
  if (x.dim() == 3) y = y.reshape({x.size(0), x.size(2), num_features_}).transpose(1, 2);
  return y;
}

}  // namespace nudge::nn

#include "nn/normalization.h"

#include "core/autograd/grad_mode.h"
#include "core/factory.h"
#include "core/ops.h"
#include "core/ops_spatial.h"

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

BatchNorm::BatchNorm(std::int64_t num_features, BatchNormOptions options, const char* name)
    : num_features_(num_features), name_(name), options_(options) {
  NUDGE_CHECK(num_features > 0, name, ": num_features must be positive, got ", num_features);
  NUDGE_CHECK(options.eps >= 0, name, ": eps must be non-negative, got ", options.eps);
  NUDGE_CHECK(!options.momentum || (*options.momentum >= 0 && *options.momentum <= 1), name,
              ": momentum must be in [0, 1], got ", options.momentum.value_or(0));
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

Tensor BatchNorm::forward(const Tensor& x) {
  check_input(x);
  const bool tracking = options_.track_running_stats;
  double momentum = options_.momentum.value_or(0.0);
  if (is_training() && tracking) {
    NoGradGuard no_grad;
    num_batches_tracked.add_(1);
    // momentum = None: a cumulative average, each batch weighing 1 / (batches so far).
    if (!options_.momentum) momentum = 1.0 / num_batches_tracked.item<double>();
  }
  // Without running statistics, eval normalises with the batch's own, as training does.
  const bool use_batch = is_training() || !tracking;
  NUDGE_CHECK(!use_batch || x.numel() / x.size(1) > 1, name_,
              ": expected more than 1 value per channel when training, got input ", describe(x));
  return batch_norm(x, tracking ? running_mean : Tensor(), tracking ? running_var : Tensor(), weight, bias, use_batch,
                    momentum, options_.eps);
}

void BatchNorm1d::check_input(const Tensor& x) const {
  NUDGE_CHECK((x.dim() == 2 || x.dim() == 3) && x.size(1) == num_features_, name_, ": expected input [N, ",
              num_features_, "] or [N, ", num_features_, ", L], got a ", describe(x));
}

void BatchNorm2d::check_input(const Tensor& x) const {
  NUDGE_CHECK(x.dim() == 4 && x.size(1) == num_features_, name_, ": expected input [N, ", num_features_,
              ", H, W], got a ", describe(x));
}

GroupNorm::GroupNorm(std::int64_t num_groups, std::int64_t num_channels, double eps, bool affine)
    : num_groups_(num_groups), num_channels_(num_channels), eps_(eps) {
  NUDGE_CHECK(num_groups > 0 && num_channels > 0 && num_channels % num_groups == 0,
              "nn::GroupNorm: num_channels must be divisible by num_groups, got ", num_channels, " and ", num_groups);
  if (affine) {
    weight = register_parameter("weight", ones({num_channels}));
    bias = register_parameter("bias", zeros({num_channels}));
  }
}

Tensor GroupNorm::forward(const Tensor& x) {
  NUDGE_CHECK(x.dim() >= 2 && x.size(1) == num_channels_, "nn::GroupNorm: expected input [N, ", num_channels_,
              ", ...], got a ", describe(x));
  return group_norm(x, num_groups_, weight, bias, eps_);
}

}  // namespace nudge::nn

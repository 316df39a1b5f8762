// Batch and group normalisation, composed of reductions and elementwise ops (their gradients are
// the composition's): x seen as [N, C, R] (R the spatial positions) or [N, G, R'] is normalised
// by a mean and a biased variance over the dims a channel (group) spans.
#include <cmath>

#include "core/ops_checks.h"
#include "core/ops_spatial.h"

namespace nudge {

namespace {

/// Mean and biased variance of x [A, B, R] over dims 0 and 2, each [1, B, 1].
std::pair<Tensor, Tensor> channel_moments(const Tensor& x3) {
  const Tensor mean_ = mean(mean(x3, 2, true), 0, true);
  const Tensor centered = x3 - mean_;
  const Tensor var_ = mean(mean(centered * centered, 2, true), 0, true);
  return {mean_, var_};
}

void check_channel_vector(const Tensor& t, const Tensor& x, std::int64_t channels, const char* what, const char* op) {
  if (!t.defined()) return;
  detail::check_same_device_and_dtype(x, t, op);
  NUDGE_CHECK(t.dim() == 1 && t.size(0) == channels, op, ": ", what, " ", describe(t), " does not fit the input ",
              describe(x), " (expected [", channels, "])");
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  detail::check_defined(x, "batch_norm");
  detail::check_floating(x, "batch_norm");
  NUDGE_CHECK(x.dim() >= 2, "batch_norm: expected an input [N, C, ...] of at least 2 dims, got a ", describe(x));
  const std::int64_t N = x.size(0), C = x.size(1);
  for (const auto& [t, what] : {std::pair{&running_mean, "running_mean"}, std::pair{&running_var, "running_var"},
                                std::pair{&weight, "weight"}, std::pair{&bias, "bias"}})
    check_channel_vector(*t, x, C, what, "batch_norm");
  NUDGE_CHECK(training || (running_mean.defined() && running_var.defined()),
              "batch_norm: evaluation (training=false) needs running_mean and running_var");
  const std::int64_t R = C == 0 ? 0 : x.numel() / std::max<std::int64_t>(1, N * C);
  const Tensor x3 = x.reshape({N, C, R});
  Tensor mean_, var_;
  if (training) {
    NUDGE_CHECK(N * R > 1, "batch_norm: expected more than 1 value per channel when training, got input ", describe(x));
    std::tie(mean_, var_) = channel_moments(x3);
    if (running_mean.defined() || running_var.defined()) {
      NoGradGuard no_grad;  // running statistics are buffers, updated in place, outside the graph
      const double n = static_cast<double>(N * R);
      Tensor rm = running_mean, rv = running_var;
      if (rm.defined()) rm.mul_(1 - momentum).add_(mean_.reshape({C}).detach() * momentum);
      if (rv.defined()) rv.mul_(1 - momentum).add_(var_.reshape({C}).detach() * (momentum * n / (n - 1)));
    }
  } else {
    mean_ = running_mean.reshape({1, C, 1});
    var_ = running_var.reshape({1, C, 1});
  }
  Tensor y = (x3 - mean_) / sqrt(var_ + eps);
  if (weight.defined()) y = y * weight.reshape({1, C, 1});
  if (bias.defined()) y = y + bias.reshape({1, C, 1});
  return y.reshape(x.shape());
}

Tensor group_norm(const Tensor& x, std::int64_t num_groups, const Tensor& weight, const Tensor& bias, double eps) {
  detail::check_defined(x, "group_norm");
  detail::check_floating(x, "group_norm");
  NUDGE_CHECK(x.dim() >= 2, "group_norm: expected an input [N, C, ...] of at least 2 dims, got a ", describe(x));
  const std::int64_t N = x.size(0), C = x.size(1);
  NUDGE_CHECK(num_groups >= 1 && C % num_groups == 0, "group_norm: expected the number of channels ", C,
              " of the input ", describe(x), " to be divisible by num_groups, got num_groups=", num_groups);
  check_channel_vector(weight, x, C, "weight", "group_norm");
  check_channel_vector(bias, x, C, "bias", "group_norm");
  const std::int64_t R = C == 0 ? 0 : x.numel() / std::max<std::int64_t>(1, N * C);
  // [N·G, 1, (C/G)·R]: each group of each sample is one row of moments.
  const Tensor groups = x.reshape({N * num_groups, 1, (C / num_groups) * R});
  const auto [mean_, var_] = channel_moments(groups.transpose(0, 1));  // [1, N·G, 1]
  Tensor y = ((groups - mean_.reshape({N * num_groups, 1, 1})) / sqrt(var_.reshape({N * num_groups, 1, 1}) + eps))
                 .reshape({N, C, R});
  if (weight.defined()) y = y * weight.reshape({1, C, 1});
  if (bias.defined()) y = y + bias.reshape({1, C, 1});
  return y.reshape(x.shape());
}

}  // namespace nudge

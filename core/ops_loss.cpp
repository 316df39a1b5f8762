// The losses a training step ends in, each as ONE fused op: a single kernel computes the loss
// (reduced to one value in the same launch) and its gradient with respect to the input, which
// is kept for backward. backward is then one multiply by the incoming gradient.
//   mse_loss                          (x − t)²                        d/dx = 2(x − t)
//   binary_cross_entropy_with_logits  max(x,0) − x·t + log(1+e^−|x|)  d/dx = σ(x) − t
//   cross_entropy                     logsumexp(x_row) − x[target]     d/dx = softmax(x_row) − onehot
// The generic composition (sub, mul, mean, log_softmax, ...) gives the same numbers; the tests
// compare the two. A target that itself needs a gradient takes the generic path.
#include <limits>

#include "core/autograd/node.h"
#include "core/dispatch.h"
#include "core/factory.h"
#include "core/ops.h"
#include "core/ops_checks.h"

namespace nudge {

Tensor reduce_loss(const Tensor& per_element, Reduction reduction) {
  switch (reduction) {
    case Reduction::Mean: return mean(per_element);
    case Reduction::Sum: return sum(per_element);
    case Reduction::None: break;
  }
  return per_element;
}

namespace {

/// The unfused composition, for targets that require grad (their gradient is not fused).
Tensor composite_loss(LossKind kind, const Tensor& x, const Tensor& t, Reduction reduction) {
  if (kind == LossKind::MSE) {
    const Tensor d = x - t;
    return reduce_loss(d * d, reduction);
  }
  return reduce_loss(relu(x) - x * t + log(1 + exp(-abs(x))), reduction);
}

void check_same_shape(const Tensor& input, const Tensor& target, const char* op) {
  detail::check_same_device_and_dtype(input, target, op);
  detail::check_floating(input, op);
  NUDGE_CHECK(input.shape() == target.shape(), op, ": input and target must have the same shape, got a ",
              describe(input), " and a ", describe(target));
}

Tensor fused_loss(LossKind kind, const Tensor& input, const Tensor& target, Reduction reduction, const char* op) {
  const Tensor x = input.contiguous(), t = target.contiguous();
  const bool cross_entropy = kind == LossKind::CrossEntropy;
  const TensorOptions options = TensorOptions(x.dtype()).device(x.device());
  const Shape loss_shape = reduction != Reduction::None ? Shape{} : cross_entropy ? Shape{x.size(0)} : x.shape();
  Tensor loss = empty(loss_shape, options);
  const bool needs_grad = autograd::needs_grad({&input});
  Tensor grad = needs_grad ? empty_like(x) : Tensor();
  if (x.numel() == 0) {
    // An empty mean is NaN and an empty sum 0, as in PyTorch.
    if (reduction != Reduction::None) loss.fill_(reduction == Reduction::Mean ? std::numeric_limits<double>::quiet_NaN() : 0.0);
  } else {
    const std::int64_t rows = cross_entropy ? x.size(0) : 1, cols = cross_entropy ? x.size(1) : x.numel();
    const LossCall call{kind, x.dtype(), reduction, rows, cols, x.data_ptr(), t.data_ptr(), loss.data_ptr(),
                        needs_grad ? grad.data_ptr() : nullptr};
    dispatch::loss.get(x.device(), op)(x.device().index(), call);
  }
  if (!needs_grad) return loss;
  autograd::record(op, loss, {&input},
                   [grad_ = autograd::SavedTensor(grad, op), per_row = cross_entropy && reduction == Reduction::None](
                       const Tensor& g) { return autograd::Grads{grad_.get() * (per_row ? g.unsqueeze(1) : g)}; });
  return loss;
}

}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_same_shape(input, target, "mse_loss");
  if (target.requires_grad() && GradMode::is_enabled()) return composite_loss(LossKind::MSE, input, target, reduction);
  return fused_loss(LossKind::MSE, input, target, reduction, "mse_loss");
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target, Reduction reduction) {
  check_same_shape(logits, target, "binary_cross_entropy_with_logits");
  if (target.requires_grad() && GradMode::is_enabled())
    return composite_loss(LossKind::BCEWithLogits, logits, target, reduction);
  return fused_loss(LossKind::BCEWithLogits, logits, target, reduction, "binary_cross_entropy_with_logits");
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction) {
  detail::check_defined(logits, "cross_entropy");
  detail::check_defined(target, "cross_entropy");
  NUDGE_CHECK(logits.dim() == 2 && target.dim() == 1 && target.dtype() == kInt64 && target.size(0) == logits.size(0),
              "cross_entropy: expects logits [N, C] and int64 targets [N], got a ", describe(logits), " and a ",
              describe(target));
  detail::check_floating(logits, "cross_entropy");
  NUDGE_CHECK(logits.device() == target.device(), "cross_entropy: logits and targets must be on the same device, got a ",
              describe(logits), " and a ", describe(target));
  NUDGE_CHECK(logits.size(1) > 0, "cross_entropy: needs at least one class, got a ", describe(logits));
  // Class indices are checked by the kernel: on the CPU at once; on CUDA the rows get NaN and the
  // error is raised at the next synchronisation (no stall of the GPU queue to look at targets).
  return fused_loss(LossKind::CrossEntropy, logits, target, reduction, "cross_entropy");
}

}  // namespace nudge

// The losses a training step ends in, each as ONE fused op: a single kernel computes the loss
// (reduced to one value in the same launch) and its gradient with respect to the input, which
// is kept for backward. backward is then one multiply by the incoming gradient.
//   mse_loss                          (x − t)²                        d/dx = 2(x − t)
//   binary_cross_entropy_with_logits  max(x,0) − x·t + log(1+e^−|x|)  d/dx = σ(x) − t
//   cross_entropy                     logsumexp(x_row) − x[target]     d/dx = softmax(x_row) − onehot
// The generic composition (sub, mul, mean, log_softmax, ...) gives the same numbers; the tests
// compare the two. A target that needs a gradient gets it from the same kernel's numbers.
#include <limits>

#include "core/autograd/node.h"
#include "kernels/dispatch.h"
#include "core/factory.h"
#include "core/ops.h"
#include "core/ops_checks.h"

// core reaches the backends only through the dispatch tables and the plain-data calls.
using namespace nudge::kernels;  // NOLINT(google-build-using-namespace)

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

void check_same_shape(const Tensor& input, const Tensor& target, const char* op) {
  detail::check_same_device_and_dtype(input, target, op);
  detail::check_floating(input, op);
  NUDGE_CHECK(input.shape() == target.shape(), op, ": input and target must have the same shape, got a ",
              describe(input), " and a ", describe(target));
}

/// The loss of `input` against `target` in ONE kernel, with the input gradient computed in the same
/// pass whenever anything needs a gradient. The target's gradient, when it needs one, follows from
/// the same numbers: −(input gradient) for MSE, −x·scale for BCE-with-logits. The target is saved
/// even when it needs no gradient, so changing it in place before backward() is caught.
Tensor fused_loss(LossKind kind, const Tensor& input, const Tensor& target, Reduction reduction, const char* op,
                  std::int64_t ignore_index = -100) {
  const Tensor x = input.contiguous(), t = target.contiguous();
  const bool cross_entropy = kind == LossKind::CrossEntropy;
  const TensorOptions options = TensorOptions(x.dtype()).device(x.device());
  const Shape loss_shape = reduction != Reduction::None ? Shape{} : cross_entropy ? Shape{x.size(0)} : x.shape();
  Tensor loss = empty(loss_shape, options);
  const bool input_needs = autograd::needs_grad({&input});
  const bool target_needs = !cross_entropy && autograd::needs_grad({&target});
  const bool needs_grad = input_needs || target_needs;
  Tensor grad = needs_grad ? empty_like(x) : Tensor();
  // Cross-entropy's Mean over the rows that are not ignored: the kernel says how to rescale.
  Tensor rescale = needs_grad && cross_entropy && reduction == Reduction::Mean ? empty({}, options) : Tensor();
  if (x.numel() == 0) {
    // An empty mean is NaN and an empty sum 0, as in PyTorch.
    if (reduction != Reduction::None)
      loss.fill_(reduction == Reduction::Mean ? std::numeric_limits<double>::quiet_NaN() : 0.0);
    if (rescale.defined()) rescale.fill_(0);
  } else {
    const std::int64_t rows = cross_entropy ? x.size(0) : 1, cols = cross_entropy ? x.size(1) : x.numel();
    const LossCall call{kind,
                        x.dtype(),
                        reduction,
                        rows,
                        cols,
                        x.data_ptr(),
                        t.data_ptr(),
                        loss.data_ptr(),
                        needs_grad ? grad.data_ptr() : nullptr,
                        ignore_index,
                        rescale.defined() ? rescale.data_ptr() : nullptr};
    dispatch::loss.run(x.device(), op, call);
  }
  if (!needs_grad) return loss;
  const bool per_row = cross_entropy && reduction == Reduction::None;
  const double scale =
      reduction == Reduction::Mean ? 1.0 / static_cast<double>(std::max<std::int64_t>(x.numel(), 1)) : 1.0;
  auto backward = [grad_ = autograd::SavedTensor(grad, op), t_ = autograd::SavedTensor(target, op),
                   x_ = target_needs ? autograd::SavedTensor(x, op) : autograd::SavedTensor(), rescale, per_row, kind,
                   scale, target_needs](const Tensor& g) {
    (void)t_.get();  // the version check: the target must be as it was when the loss was computed
    Tensor upstream = per_row ? g.unsqueeze(1) : g;
    if (rescale.defined()) upstream = upstream * rescale;
    autograd::Grads grads{grad_.get() * upstream};
    if (target_needs) grads.push_back(kind == LossKind::MSE ? -grads[0] : x_.get() * (-scale) * upstream);
    return grads;
  };
  if (target_needs) NUDGE_RECORD(op, loss, (&input, &target), std::move(backward));
  else NUDGE_RECORD(op, loss, (&input), std::move(backward));
  return loss;
}

}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_same_shape(input, target, "mse_loss");
  return fused_loss(LossKind::MSE, input, target, reduction, "mse_loss");
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target, Reduction reduction) {
  check_same_shape(logits, target, "binary_cross_entropy_with_logits");
  return fused_loss(LossKind::BCEWithLogits, logits, target, reduction, "binary_cross_entropy_with_logits");
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction, std::int64_t ignore_index) {
  detail::check_defined(logits, "cross_entropy");
  detail::check_defined(target, "cross_entropy");
  NUDGE_CHECK(logits.dim() == 2 && target.dim() == 1 && target.dtype() == kInt64 && target.size(0) == logits.size(0),
              "cross_entropy: expects logits [N, C] and int64 targets [N], got a ", describe(logits), " and a ",
              describe(target));
  detail::check_floating(logits, "cross_entropy");
  NUDGE_CHECK(logits.device() == target.device(),
              "cross_entropy: logits and targets must be on the same device, got a ", describe(logits), " and a ",
              describe(target));
  NUDGE_CHECK(logits.size(1) > 0, "cross_entropy: needs at least one class, got a ", describe(logits));
  // Class indices are checked by the kernel: on the CPU at once; on CUDA the rows get NaN and the
  // error is raised at the next synchronisation (no stall of the GPU queue to look at targets).
  return fused_loss(LossKind::CrossEntropy, logits, target, reduction, "cross_entropy", ignore_index);
}

// Binary cross-entropy on probabilities, PyTorch's formulas: each log clamped at −100 in the loss;
// the input gradient (p − t) / max(p(1 − p), ε) with PyTorch's ε = 1e-12 (as a float), exact where
// p·(1 − p) is representable and 0 rather than 0/0 where p is exactly 0 or 1 and equals t; the
// target gradient log(1 − p) − log p. Probabilities outside [0, 1] (or NaN) are an error.
Tensor binary_cross_entropy(const Tensor& p, const Tensor& target, Reduction reduction) {
  check_same_shape(p, target, "binary_cross_entropy");
  if (p.numel() > 0) {
    NoGradGuard no_grad;
    const double hi = max(p).item<double>(), lo = min(p).item<double>();
    NUDGE_CHECK(lo >= 0 && hi <= 1,
                "binary_cross_entropy: all elements of input should be between 0 and 1, got values in [", lo, ", ", hi,
                "] in a ", describe(p));
  }
  Tensor loss;
  {
    NoGradGuard no_grad;
    const Tensor log_p = clamp_min(log(p), -100), log_not_p = clamp_min(log1p(-p), -100);
    loss = reduce_loss((target - 1) * log_not_p - target * log_p, reduction);
  }
  if (autograd::needs_grad({&p, &target})) {
    const double scale =
        reduction == Reduction::Mean ? 1.0 / static_cast<double>(std::max<std::int64_t>(p.numel(), 1)) : 1.0;
    NUDGE_RECORD(
        "binary_cross_entropy", loss, (&p, &target),
        [p_ = autograd::SavedTensor(p, "binary_cross_entropy"),
         t_ = autograd::SavedTensor(target, "binary_cross_entropy"), scale](const Tensor& g) {
          const Tensor& v = p_.get();
          const Tensor& t = t_.get();
          const Tensor upstream = g * scale;
          constexpr double kEps = static_cast<float>(1e-12);
          return autograd::Grads{upstream * (v - t) / clamp_min(v * (1 - v), kEps), upstream * (log1p(-v) - log(v))};
        });
  }
  return loss;
}

}  // namespace nudge

#include "nn/loss.h"

#include "core/ops.h"

namespace nudge::nn {

namespace {

void check_same_shape(const Tensor& input, const Tensor& target, const char* loss) {
  NUDGE_CHECK(input.defined() && target.defined(), loss, ": got an undefined tensor");
  NUDGE_CHECK(input.shape() == target.shape(), loss, ": input and target must have the same shape, got a ",
              describe(input), " and a ", describe(target));
}

Tensor reduce(const Tensor& per_element, Reduction reduction) {
  switch (reduction) {
    case Reduction::Mean: return mean(per_element);
    case Reduction::Sum: return sum(per_element);
    case Reduction::None: break;
  }
  return per_element;
}

}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_same_shape(input, target, "mse_loss");
  const Tensor diff = input - target;
  return reduce(diff * diff, reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_same_shape(input, target, "l1_loss");
  return reduce(abs(input - target), reduction);
}

Tensor binary_cross_entropy(const Tensor& p, const Tensor& target, Reduction reduction) {
  check_same_shape(p, target, "binary_cross_entropy");
  const Tensor log_p = clamp_min(log(p), -100), log_not_p = clamp_min(log(1 - p), -100);
  return reduce(-(target * log_p + (1 - target) * log_not_p), reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& x, const Tensor& target, Reduction reduction) {
  check_same_shape(x, target, "binary_cross_entropy_with_logits");
  return reduce(relu(x) - x * target + log(1 + exp(-abs(x))), reduction);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction) {
  NUDGE_CHECK(logits.defined() && target.defined() && logits.dim() == 2 && target.dim() == 1 &&
                  target.dtype() == kInt64 && target.size(0) == logits.size(0),
              "cross_entropy: expects logits [N, C] and int64 targets [N], got a ", describe(logits), " and a ",
              describe(target));
  const Tensor picked = one_hot(target, logits.size(1), logits.dtype()) * log_softmax(logits, 1);
  return reduce(-sum(picked, 1), reduction);
}

}  // namespace nudge::nn

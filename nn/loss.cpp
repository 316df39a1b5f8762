#include "nn/loss.h"

#include "core/ops.h"

namespace nudge::nn {

namespace {

void check_same_shape(const Tensor& input, const Tensor& target, const char* loss) {
  NUDGE_CHECK(input.defined() && target.defined(), loss, ": got an undefined tensor");
  NUDGE_CHECK(input.shape() == target.shape(), loss, ": input and target must have the same shape, got a ",
              describe(input), " and a ", describe(target));
}

}  // namespace

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_same_shape(input, target, "l1_loss");
  return reduce_loss(abs(input - target), reduction);
}

}  // namespace nudge::nn

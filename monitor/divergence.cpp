#include "monitor/divergence.h"

#include <cmath>
#include <string>

#include "core/autograd/grad_mode.h"
#include "core/error.h"
#include "core/factory.h"
#include "core/ops.h"

namespace nudge::monitor {

DivergenceCheck::DivergenceCheck(std::int64_t check_every) : check_every_(check_every) {
  NUDGE_CHECK(check_every >= 1, "DivergenceCheck: check_every must be >= 1, got ", check_every);
}

void DivergenceCheck::check(const Tensor& loss) {
  NUDGE_CHECK(loss.defined() && is_floating(loss.dtype()), "DivergenceCheck: expects a float loss, got a ",
              describe(loss));
  NoGradGuard no_grad;
  const Tensor zero_if_finite = sum(loss.detach() * 0.0).to(kFloat64);
  flag_ = flag_.defined() && flag_.device() == zero_if_finite.device() ? flag_ + zero_if_finite : zero_if_finite;
  if (++steps_ - checked_ >= check_every_) finish();
}

void DivergenceCheck::finish() {
  if (!flag_.defined() || steps_ == checked_) return;
  const double flag = flag_.item<double>();
  const std::int64_t first = checked_ + 1;
  checked_ = steps_;
  flag_ = Tensor();
  NUDGE_CHECK_AS(NonFiniteError, std::isfinite(flag), "training diverged: the loss became NaN or inf ",
                 first == steps_ ? "at step " + std::to_string(steps_)
                                 : "between steps " + std::to_string(first) + " and " + std::to_string(steps_),
                 " (try a smaller learning rate)");
}

}  // namespace nudge::monitor

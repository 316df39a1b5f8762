#include "optim/clip.h"

#include <cmath>

#include "core/autograd/grad_mode.h"
#include "core/ops.h"

namespace nudge::optim {

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm) {
  NoGradGuard no_grad;
  double total_sq = 0;
  for (const auto& p : params)
    if (p.grad().defined()) total_sq += sum(p.grad() * p.grad()).to(kFloat64).item<double>();
  const double total = std::sqrt(total_sq);
  const double scale = max_norm / (total + 1e-6);
  if (scale < 1)
    for (const auto& p : params)
      if (p.grad().defined()) p.grad().mul_(scale);
  return total;
}

bool EarlyStopping::step(double loss) {
  if (loss < best_ - min_delta_) {
    best_ = loss;
    bad_epochs_ = 0;
  } else {
    ++bad_epochs_;
  }
  return should_stop();
}

}  // namespace nudge::optim

#include "optim/adam.h"

#include <cmath>

#include "core/autograd/grad_mode.h"
#include "core/factory.h"
#include "core/ops.h"

namespace nudge::optim {

Adam::Adam(std::vector<Tensor> params, AdamOptions options) : Adam(std::move(params), options, false) {}

Adam::Adam(std::vector<Tensor> params, AdamOptions options, bool decoupled)
    : Optimizer({ParamGroup{std::move(params), options.lr}}), options_(options), decoupled_(decoupled) {
  NUDGE_CHECK(options.beta1 >= 0 && options.beta1 < 1 && options.beta2 >= 0 && options.beta2 < 1,
              "Adam: betas must be in [0, 1), got ", options.beta1, " and ", options.beta2);
  NUDGE_CHECK(options.eps >= 0 && options.weight_decay >= 0, "Adam: eps and weight_decay must be >= 0");
}

void Adam::step() {
  NoGradGuard no_grad;
  const AdamOptions& o = options_;
  for (auto& group : param_groups()) {
    for (auto& p : group.params) {
      Tensor g = p.grad();
      if (!g.defined()) continue;
      State& s = state_of<State>(p);
      if (s.step++ == 0) {
        s.exp_avg = zeros_like(p);
        s.exp_avg_sq = zeros_like(p);
      }
      if (o.weight_decay != 0) {
        if (decoupled_) p.mul_(1 - group.lr * o.weight_decay);
        else g = g + p * o.weight_decay;
      }
      s.exp_avg.mul_(o.beta1);
      s.exp_avg.add_(g * (1 - o.beta1));
      s.exp_avg_sq.mul_(o.beta2);
      s.exp_avg_sq.add_(g * g * (1 - o.beta2));
      const double t = static_cast<double>(s.step);
      const double bias1 = 1 - std::pow(o.beta1, t), bias2 = 1 - std::pow(o.beta2, t);
      const Tensor denom = sqrt(s.exp_avg_sq) / std::sqrt(bias2) + o.eps;
      p.sub_(s.exp_avg / denom * (group.lr / bias1));
    }
  }
}

}  // namespace nudge::optim

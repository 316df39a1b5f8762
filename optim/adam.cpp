#include "optim/adam.h"

#include <cmath>

#include "core/autograd/grad_mode.h"
#include "core/optimizer_ops.h"
#include "core/factory.h"
#include "core/ops.h"

namespace nudge::optim {

Adam::Adam(std::vector<Tensor> params, AdamOptions options) : Adam(std::move(params), options, false) {}

Adam::Adam(std::vector<Tensor> params, AdamOptions options, bool decoupled)
    : Optimizer({ParamGroup{std::move(params), options.lr}}), options_(options), decoupled_(decoupled) {
  NUDGE_CHECK(options.beta1 >= 0 && options.beta1 < 1 && options.beta2 >= 0 && options.beta2 < 1,
              "Adam: betas must be in [0, 1), got ", options.beta1, " and ", options.beta2);
  NUDGE_CHECK(std::isfinite(options.eps) && options.eps >= 0 && std::isfinite(options.weight_decay) &&
                  options.weight_decay >= 0,
              "Adam: eps and weight_decay must be finite and >= 0, got ", options.eps, " and ", options.weight_decay);
}

void Adam::step() {
  const AdamOptions& o = options_;
  NUDGE_CHECK(!capturing(), name(),
              ": cannot be recorded into a cuda::Graph: its bias correction depends on the step "
              "count, which a replay would freeze at the captured step; use SGD in graphs");
  std::vector<AdamParam> params;
  for_each_param_with_grad([&](const Tensor& p, double lr) {
    State& s = state_of<State>(p);
    if (s.step++ == 0) {
      s.exp_avg = zeros_like(p);
      s.exp_avg_sq = zeros_like(p);
    }
    const double t = static_cast<double>(s.step);
    params.push_back(
        {p, p.grad(), s.exp_avg, s.exp_avg_sq, lr, 1 - std::pow(o.beta1, t), std::sqrt(1 - std::pow(o.beta2, t))});
  });
  // One multi-tensor kernel per device and dtype: the rule of optim/adam.h, applied elementwise.
  adam_step_(params, {.beta1 = o.beta1,
                      .beta2 = o.beta2,
                      .eps = o.eps,
                      .weight_decay = o.weight_decay,
                      .decoupled_weight_decay = decoupled_});
}

}  // namespace nudge::optim

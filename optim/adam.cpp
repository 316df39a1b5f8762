#include "optim/adam.h"

#include <cmath>

#include "core/autograd/grad_mode.h"
#include "core/dispatch.h"
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
  NUDGE_CHECK(!capturing(), name(), ": cannot be recorded into a cuda::Graph: its bias correction depends on the step "
              "count, which a replay would freeze at the captured step; use SGD in graphs");
  // One multi-tensor kernel per device and dtype (kernels/*/optimizer_step): the rule of
  // optim/adam.h, applied elementwise in one pass (kernels/functors.h, adam_update).
  for (const SlotGroup& group : slot_groups([&](const Tensor& p, ParamSlot& slot) {
         State& s = state_of<State>(p);
         if (s.step++ == 0) {
           s.exp_avg = zeros_like(p);
           s.exp_avg_sq = zeros_like(p);
         }
         const double t = static_cast<double>(s.step);
         slot.state1 = s.exp_avg.data_ptr();
         slot.state2 = s.exp_avg_sq.data_ptr();
         slot.bias_correction1 = 1 - std::pow(o.beta1, t);
         slot.bias_correction2_sqrt = std::sqrt(1 - std::pow(o.beta2, t));
       })) {
    const AdamStepCall call{group.dtype, group.slots.data(), static_cast<std::int64_t>(group.slots.size()),
                            o.beta1,     o.beta2,            o.eps,
                            o.weight_decay, decoupled_};
    dispatch::adam_step.get(group.device, "Adam step")(group.device.index(), call);
  }
}

}  // namespace nudge::optim

#include "optim/adam.h"

#include <cmath>

#include "core/autograd/grad_mode.h"
#include "core/optimizer_ops.h"
#include "core/factory.h"
#include "core/ops.h"

namespace nudge::optim {

namespace {

/// A group's hyperparameters: its own values where it has them, else the optimizer's.
AdamHyper hyper_of(const ParamGroup& g, const AdamOptions& o, bool decoupled) {
  return {.beta1 = g.beta1.value_or(o.beta1),
          .beta2 = g.beta2.value_or(o.beta2),
          .eps = g.eps.value_or(o.eps),
          .weight_decay = g.weight_decay.value_or(o.weight_decay),
          .decoupled_weight_decay = decoupled};
}

std::vector<ParamGroup> one_group(std::vector<Tensor> params, double lr) {
  std::vector<ParamGroup> groups;
  groups.emplace_back(std::move(params), lr);
  return groups;
}

}  // namespace

Adam::Adam(std::vector<Tensor> params, AdamOptions options)
    : Adam(one_group(std::move(params), options.lr), options, false) {}
Adam::Adam(std::vector<ParamGroup> groups, AdamOptions options) : Adam(std::move(groups), options, false) {}

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions options, bool decoupled)
    : Optimizer(std::move(groups)), options_(options), decoupled_(decoupled) {
  for (std::size_t i = 0; i < param_groups().size(); ++i) {
    const AdamHyper h = hyper_of(param_groups()[i], options, decoupled);
    NUDGE_CHECK(h.beta1 >= 0 && h.beta1 < 1 && h.beta2 >= 0 && h.beta2 < 1, "Adam: betas must be in [0, 1), got ",
                h.beta1, " and ", h.beta2, " (group ", i, ")");
    NUDGE_CHECK(std::isfinite(h.eps) && h.eps >= 0 && std::isfinite(h.weight_decay) && h.weight_decay >= 0,
                "Adam: eps and weight_decay must be finite and >= 0, got ", h.eps, " and ", h.weight_decay, " (group ",
                i, ")");
  }
}

void Adam::State::fields(const std::function<void(const char*, Tensor&)>& tensor,
                         const std::function<void(const char*, std::int64_t&)>& counter) {
  tensor("exp_avg", exp_avg);
  tensor("exp_avg_sq", exp_avg_sq);
  const std::int64_t before = step.defined() ? static_cast<std::int64_t>(step.item<double>()) : 0;
  std::int64_t count = before;
  counter("step", count);  // reads `count` when saving, sets it when loading
  if (exp_avg.defined() && (count != before || !step.defined()))
    step = full({}, static_cast<double>(count), TensorOptions(kFloat64).device(exp_avg.device()));
}

void Adam::step() {
  // One multi-tensor kernel per group, device and dtype: the rule of optim/adam.h, elementwise.
  // The step counts live on the device and the kernel advances them, so a captured step counts on.
  for (std::size_t g = 0; g < param_groups().size(); ++g) {
    const ParamGroup& group = param_groups()[g];
    const AdamHyper hyper = hyper_of(group, options_, decoupled_);
    std::vector<AdamParam> params;
    for (const Tensor& p : params_with_grad(group)) {
      State& s = state_of<State>(p);
      if (!s.step.defined()) {
        check_not_capturing_first_step(p.device());
        s.exp_avg = zeros_like(p);
        s.exp_avg_sq = zeros_like(p);
        s.step = zeros({}, TensorOptions(kFloat64).device(p.device()));
      }
      params.push_back({p, p.grad(), s.exp_avg, s.exp_avg_sq, device_lr(g, p.device()), s.step});
    }
    if (!params.empty()) adam_step_(params, hyper);
  }
}

}  // namespace nudge::optim

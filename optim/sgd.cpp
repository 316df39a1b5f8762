#include "optim/sgd.h"

#include <cmath>

#include "core/autograd/grad_mode.h"
#include "core/optimizer_ops.h"
#include "core/factory.h"
#include "core/ops.h"

namespace nudge::optim {

SGD::SGD(std::vector<Tensor> params, SGDOptions options) : SGD({ParamGroup{std::move(params), options.lr}}, options) {}

namespace {

/// A group's hyperparameters: its own values where it has them, else the optimizer's.
SgdHyper hyper_of(const ParamGroup& g, const SGDOptions& o) {
  return {.momentum = g.momentum.value_or(o.momentum),
          .dampening = g.dampening.value_or(o.dampening),
          .weight_decay = g.weight_decay.value_or(o.weight_decay),
          .nesterov = g.nesterov.value_or(o.nesterov)};
}

}  // namespace

SGD::SGD(std::vector<ParamGroup> groups, SGDOptions options) : Optimizer(std::move(groups)), options_(options) {
  for (std::size_t i = 0; i < param_groups().size(); ++i) {
    const SgdHyper h = hyper_of(param_groups()[i], options);
    NUDGE_CHECK(std::isfinite(h.momentum) && h.momentum >= 0 && std::isfinite(h.weight_decay) && h.weight_decay >= 0 &&
                    std::isfinite(h.dampening),
                "SGD: momentum and weight_decay must be finite and >= 0 and dampening finite, got ", h.momentum, ", ",
                h.weight_decay, " and ", h.dampening, " (group ", i, ")");
    NUDGE_CHECK(!h.nesterov || (h.momentum > 0 && h.dampening == 0),
                "SGD: nesterov needs momentum > 0 and dampening = 0, got momentum=", h.momentum,
                " dampening=", h.dampening, " (group ", i, ")");
  }
}

void SGD::step() {
  // One multi-tensor kernel per group, device and dtype: the rule of optim/sgd.h, elementwise.
  for (std::size_t g = 0; g < param_groups().size(); ++g) {
    const ParamGroup& group = param_groups()[g];
    const SgdHyper hyper = hyper_of(group, options_);
    std::vector<SgdParam> params;
    for (const Tensor& p : params_with_grad(group)) {
      SgdParam sp{p, p.grad(), Tensor(), device_lr(g, p.device()), false};
      if (hyper.momentum != 0) {
        Tensor& buf = state_of<State>(p).momentum_buffer;
        sp.first_step = !buf.defined();
        if (sp.first_step) {
          check_not_capturing_first_step(p.device());
          buf = empty_like(p);
        }
        sp.momentum_buffer = buf;
      }
      params.push_back(std::move(sp));
    }
    if (!params.empty()) sgd_step_(params, hyper);
  }
}

}  // namespace nudge::optim

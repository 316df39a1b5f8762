#include "optim/sgd.h"

#include "core/autograd/grad_mode.h"
#include "core/ops.h"

namespace nudge::optim {

SGD::SGD(std::vector<Tensor> params, SGDOptions options) : SGD({ParamGroup{std::move(params), options.lr}}, options) {}

SGD::SGD(std::vector<ParamGroup> groups, SGDOptions options) : Optimizer(std::move(groups)), options_(options) {
  NUDGE_CHECK(options.momentum >= 0 && options.weight_decay >= 0, "SGD: momentum and weight_decay must be >= 0, got ",
              options.momentum, " and ", options.weight_decay);
  NUDGE_CHECK(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
              "SGD: nesterov needs momentum > 0 and dampening = 0, got momentum=", options.momentum,
              " dampening=", options.dampening);
}

void SGD::step() {
  NoGradGuard no_grad;
  const SGDOptions& o = options_;
  for (auto& group : param_groups()) {
    for (auto& p : group.params) {
      Tensor g = p.grad();
      if (!g.defined()) continue;
      if (o.weight_decay != 0) g = g + p * o.weight_decay;
      if (o.momentum != 0) {
        Tensor& buf = state_of<State>(p).momentum_buffer;
        if (!buf.defined()) {
          buf = g.clone();
        } else {
          buf.mul_(o.momentum);
          buf.add_(g * (1 - o.dampening));
        }
        g = o.nesterov ? g + buf * o.momentum : buf;
      }
      p.sub_(g * group.lr);
    }
  }
}

}  // namespace nudge::optim

#include "optim/sgd.h"

#include <cmath>

#include "core/autograd/grad_mode.h"
#include "core/cuda_graph.h"
#include "core/optimizer_ops.h"
#include "core/factory.h"
#include "core/ops.h"

namespace nudge::optim {

SGD::SGD(std::vector<Tensor> params, SGDOptions options) : SGD({ParamGroup{std::move(params), options.lr}}, options) {}

SGD::SGD(std::vector<ParamGroup> groups, SGDOptions options) : Optimizer(std::move(groups)), options_(options) {
  NUDGE_CHECK(std::isfinite(options.momentum) && options.momentum >= 0 && std::isfinite(options.weight_decay) &&
                  options.weight_decay >= 0 && std::isfinite(options.dampening),
              "SGD: momentum and weight_decay must be finite and >= 0 and dampening finite, got ", options.momentum,
              ", ", options.weight_decay, " and ", options.dampening);
  NUDGE_CHECK(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
              "SGD: nesterov needs momentum > 0 and dampening = 0, got momentum=", options.momentum,
              " dampening=", options.dampening);
}

void SGD::step() {
  const SGDOptions& o = options_;
  std::vector<SgdParam> params;
  for_each_param_with_grad([&](const Tensor& p, double lr) {
    SgdParam sp{p, p.grad(), Tensor(), lr, false};
    if (o.momentum != 0) {
      Tensor& buf = state_of<State>(p).momentum_buffer;
      sp.first_step = !buf.defined();
      NUDGE_CHECK(!sp.first_step || !p.device().is_cuda() || !cuda::is_capturing(p.device().index()),
                  "SGD: the first step (which creates the momentum buffers) cannot be recorded into a cuda::Graph, "
                  "every replay would repeat it; run one eager step before capturing");
      if (sp.first_step) buf = empty_like(p);
      sp.momentum_buffer = buf;
    }
    params.push_back(std::move(sp));
  });
  // One multi-tensor kernel per device and dtype: the rule of optim/sgd.h, applied elementwise.
  sgd_step_(params,
            {.momentum = o.momentum, .dampening = o.dampening, .weight_decay = o.weight_decay, .nesterov = o.nesterov});
}

}  // namespace nudge::optim

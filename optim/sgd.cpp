#include "optim/sgd.h"

#include "core/autograd/grad_mode.h"
#include "core/cuda_graph.h"
#include "core/dispatch.h"
#include "core/factory.h"
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
  // One multi-tensor kernel per device and dtype (kernels/*/optimizer_step): the rule of
  // optim/sgd.h, applied elementwise in one pass (kernels/functors.h, sgd_update).
  for (const SlotGroup& group : slot_groups([&](const Tensor& p, ParamSlot& slot) {
         if (o.momentum == 0) return;
         Tensor& buf = state_of<State>(p).momentum_buffer;
         slot.first_step = !buf.defined();
         NUDGE_CHECK(!slot.first_step || !p.device().is_cuda() || !cuda::is_capturing(p.device().index()),
                     "SGD: the first step (which creates the momentum buffers) cannot be recorded into a cuda::Graph, "
                     "every replay would repeat it; run one eager step before capturing");
         if (slot.first_step) buf = empty_like(p);
         slot.state1 = buf.data_ptr();
       })) {
    const SgdStepCall call{group.dtype,  group.slots.data(), static_cast<std::int64_t>(group.slots.size()),
                           o.momentum,   o.dampening,        o.weight_decay,
                           o.nesterov};
    dispatch::sgd_step.get(group.device, "SGD step")(group.device.index(), call);
  }
}

}  // namespace nudge::optim

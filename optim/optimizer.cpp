#include "optim/optimizer.h"

#include "core/autograd/grad_mode.h"

namespace nudge::optim {

Optimizer::Optimizer(std::vector<ParamGroup> groups) : groups_(std::move(groups)) {
  std::size_t count = 0;
  for (const auto& g : groups_) count += g.params.size();
  NUDGE_CHECK(count > 0, "optimizer: got an empty parameter list");
  for (const auto& g : groups_) {
    NUDGE_CHECK(g.lr >= 0, "optimizer: learning rate must be >= 0, got ", g.lr);
    for (const auto& p : g.params)
      NUDGE_CHECK(p.defined() && p.is_leaf() && p.requires_grad(),
                  "optimizer: parameters must be leaf tensors that require grad, got a ", describe(p));
  }
}

void Optimizer::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (auto& g : groups_)
    for (auto& p : g.params) {
      if (set_to_none) p.set_grad(Tensor());
      else if (p.grad().defined()) p.grad().zero_();
    }
}

void Optimizer::set_lr(double lr) {
  for (auto& g : groups_) g.lr = lr;
}

}  // namespace nudge::optim

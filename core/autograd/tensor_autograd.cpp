// Tensor's autograd methods.
#include "core/autograd/engine.h"
#include "core/autograd/node.h"
#include "core/factory.h"

namespace nudge {

Tensor& Tensor::requires_grad_(bool requires_grad) {
  NUDGE_CHECK(is_leaf(), "requires_grad_: only leaf tensors can change requires_grad; this ", describe(*this),
              " was produced by ", grad_fn()->name(), " (use detach() for a new leaf)");
  NUDGE_CHECK(!requires_grad || is_floating(dtype()),
              "requires_grad_: only float tensors can require gradients, got a ", describe(*this));
  impl().requires_grad = requires_grad;
  return *this;
}

Tensor Tensor::grad() const { return impl().grad ? Tensor(impl().grad) : Tensor(); }

void Tensor::set_grad(const Tensor& grad) {
  NUDGE_CHECK(!grad.defined() || (grad.shape() == shape() && grad.dtype() == dtype() && grad.device() == device()),
              "set_grad: a ", describe(grad), " cannot be the gradient of a ", describe(*this));
  impl().grad = grad.defined() ? grad.impl_ptr() : nullptr;
}

Tensor Tensor::detach() const { return make_tensor(storage(), shape(), strides(), storage_offset(), dtype()); }

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  NUDGE_CHECK(requires_grad(), "backward: the ", describe(*this),
              " does not require grad (no input of the ops that made it has requires_grad_())");
  Tensor seed = gradient;
  if (!seed.defined()) {
    NUDGE_CHECK(numel() == 1, "backward: a gradient must be given for a non-scalar ", describe(*this),
                " (backward() without one is for one-element tensors such as a loss)");
    seed = ones_like(*this);
  }
  NUDGE_CHECK(seed.shape() == shape() && seed.dtype() == dtype() && seed.device() == device(),
              "backward: the gradient, a ", describe(seed), ", must match the ", describe(*this));
  autograd::backward(*this, seed, retain_graph);
}

}  // namespace nudge

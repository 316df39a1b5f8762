#include "core/autograd/node.h"

#include "core/autograd/hooks.h"

#include "core/ops.h"

namespace nudge::autograd {

Node::~Node() {
  // Children whose last owner is this node are queued and destroyed by the outermost
  // destructor's loop, instead of recursively (depth would equal the graph's length).
  thread_local std::vector<std::shared_ptr<Node>> pending;
  thread_local bool draining = false;
  for (Edge& e : next_)
    if (e.node && e.node.use_count() == 1) pending.push_back(std::move(e.node));
  if (draining) return;
  draining = true;
  while (!pending.empty()) {
    std::shared_ptr<Node> last = std::move(pending.back());
    pending.pop_back();
    last.reset();  // may push its own children onto `pending`
  }
  draining = false;
}

void throw_backward_twice(std::string_view node_name) {
  NUDGE_FAIL("backward: trying to backward through the graph a second time (", node_name,
             "'s saved tensors were already freed); pass retain_graph=true to the first backward()");
}

Grads AccumulateGrad::apply(const Tensor& grad_output) {
  if (!leaf_->grad) {
    // Later accumulation happens in place, so the gradient must not be shared: add's backward
    // hands one tensor to both inputs, and views share storage. Take it over only when the
    // engine's handle is its sole owner; otherwise keep a copy.
    const bool sole_owner = grad_output.impl_ptr().use_count() == 1 && grad_output.storage().use_count() == 1;
    leaf_->grad = sole_owner && grad_output.is_contiguous() ? grad_output.impl_ptr() : grad_output.clone().impl_ptr();
  } else {
    Tensor(leaf_->grad).add_(grad_output);
  }
  detail::run_post_accumulate_hooks(leaf_);
  return {};
}

SavedTensor::SavedTensor(const Tensor& t, const char* op, bool is_output)
    : tensor_(is_output ? t.detach() : t), version_(t.storage()->version()), op_(op) {}

const Tensor& SavedTensor::get() const {
  NUDGE_CHECK(tensor_.defined(), op_, ": a saved tensor was already freed by an earlier backward");
  NUDGE_CHECK(tensor_.storage()->version() == version_, op_, ": a ", describe(tensor_),
              " saved for its backward was modified by an in-place op (version ", tensor_.storage()->version(),
              ", saved at version ", version_, "); clone it before modifying, or modify it before the op");
  return tensor_;
}

bool needs_grad(std::span<const Tensor* const> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

std::shared_ptr<Node> gradient_edge(const Tensor& t) {
  if (!t.requires_grad()) return nullptr;
  TensorImpl& impl = const_cast<Tensor&>(t).impl();
  if (impl.grad_fn) return impl.grad_fn;
  std::shared_ptr<Node> acc = impl.grad_accumulator.lock();
  if (!acc) {
    acc = small_blocks::make_shared<AccumulateGrad>(t.impl_ptr());
    impl.grad_accumulator = acc;
  }
  return acc;
}

void set_history(Tensor& output, std::shared_ptr<Node> node, std::span<const Tensor* const> inputs) {
  Edges edges;
  edges.reserve(inputs.size());
  for (const Tensor* t : inputs) edges.push_back({gradient_edge(*t), t->shape()});
  node->set_next_edges(std::move(edges));
  output.impl().grad_fn = std::move(node);
  output.impl().requires_grad = true;
}

}  // namespace nudge::autograd

#include "core/autograd/hooks.h"

#include <algorithm>

namespace nudge::autograd {

namespace {
/// The callbacks of the backward running on this thread (null outside one).
thread_local std::vector<std::function<void()>>* running_callbacks = nullptr;
}  // namespace

HookHandle& HookHandle::operator=(HookHandle&& other) noexcept {
  if (this != &other) {
    remove();
    hooks_ = std::move(other.hooks_);
    id_ = other.id_;
    other.hooks_.reset();
  }
  return *this;
}

void HookHandle::remove() {
  if (const std::shared_ptr<LeafHooks> hooks = hooks_.lock())
    std::erase_if(hooks->post_accumulate, [&](const auto& entry) { return entry.first == id_; });
  hooks_.reset();
}

HookHandle add_post_accumulate_grad_hook(const Tensor& leaf, std::function<void(const Tensor&)> hook) {
  NUDGE_CHECK(leaf.defined() && leaf.requires_grad() && leaf.is_leaf(),
              "add_post_accumulate_grad_hook: expects a leaf tensor that requires grad, got ",
              leaf.defined() ? describe(leaf) : std::string("an undefined tensor"),
              leaf.defined() && !leaf.is_leaf() ? " produced by an op" : "");
  TensorImpl& impl = const_cast<Tensor&>(leaf).impl();
  if (!impl.hooks) impl.hooks = std::make_shared<LeafHooks>();
  const std::uint64_t id = impl.hooks->next_id++;
  impl.hooks->post_accumulate.emplace_back(id, std::move(hook));
  return HookHandle(impl.hooks, id);
}

void queue_callback(std::function<void()> callback) {
  NUDGE_CHECK(running_callbacks != nullptr, "queue_callback: no backward() is running on this thread");
  running_callbacks->push_back(std::move(callback));
}

namespace detail {

void run_post_accumulate_hooks(const std::shared_ptr<TensorImpl>& leaf) {
  if (!leaf->hooks || leaf->hooks->post_accumulate.empty()) return;
  const std::shared_ptr<LeafHooks> hooks = leaf->hooks;  // a hook may remove hooks
  const Tensor t(leaf);
  const auto snapshot = hooks->post_accumulate;
  for (const auto& [id, hook] : snapshot) hook(t);
}

CallbackScope::CallbackScope() : outer_(running_callbacks) { running_callbacks = &callbacks_; }
CallbackScope::~CallbackScope() { running_callbacks = outer_; }

void CallbackScope::run() {
  for (std::size_t i = 0; i < callbacks_.size(); ++i) {
    std::function<void()> callback = std::move(callbacks_[i]);  // may queue more (grows the vector)
    callback();
  }
  callbacks_.clear();
}

}  // namespace detail

}  // namespace nudge::autograd

#pragma once
/// Hooks into a running backward, for code that must act while gradients are still arriving:
/// distributed data parallel training starts averaging a layer's gradients across processes as
/// soon as they are accumulated, while backward goes on with the layers below (PyTorch's
/// register_post_accumulate_grad_hook and queue_callback).
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace nudge::autograd {

/// The hooks of one leaf tensor (held by its TensorImpl).
struct LeafHooks {
  std::uint64_t next_id = 0;
  std::vector<std::pair<std::uint64_t, std::function<void(const Tensor& leaf)>>> post_accumulate;
};

/// Removes its hook when destroyed (or on remove()); movable, not copyable.
class HookHandle {
 public:
  HookHandle() = default;
  HookHandle(std::weak_ptr<LeafHooks> hooks, std::uint64_t id) : hooks_(std::move(hooks)), id_(id) {}
  HookHandle(HookHandle&& other) noexcept : hooks_(std::move(other.hooks_)), id_(other.id_) { other.hooks_.reset(); }
  HookHandle& operator=(HookHandle&& other) noexcept;
  HookHandle(const HookHandle&) = delete;
  HookHandle& operator=(const HookHandle&) = delete;
  ~HookHandle() { remove(); }
  void remove();

 private:
  std::weak_ptr<LeafHooks> hooks_;
  std::uint64_t id_ = 0;
};

/// Calls `hook(leaf)` every time a backward has accumulated a gradient into `leaf.grad()`, in
/// the order the hooks were added; until the returned handle is destroyed. `leaf` must require
/// grad and have no grad_fn.
[[nodiscard]] HookHandle add_post_accumulate_grad_hook(const Tensor& leaf, std::function<void(const Tensor&)> hook);

/// Runs `callback` once when the backward() now running has processed its whole graph, before
/// backward() returns (callbacks queued by callbacks run too). Throws outside a backward.
void queue_callback(std::function<void()> callback);

namespace detail {
/// The engine's side: runs the hooks of a leaf that has just accumulated a gradient.
void run_post_accumulate_hooks(const std::shared_ptr<TensorImpl>& leaf);
/// The engine's side: collects queue_callback's callbacks while a backward runs.
class CallbackScope {
 public:
  CallbackScope();
  ~CallbackScope();
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;
  /// Runs the queued callbacks (and any they queue), in order.
  void run();

 private:
  std::vector<std::function<void()>> callbacks_;
  std::vector<std::function<void()>>* outer_;
};
}  // namespace detail

}  // namespace nudge::autograd

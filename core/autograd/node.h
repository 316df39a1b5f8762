#pragma once
/// The graph that define-by-run autograd records. Each differentiable op that sees an input
/// requiring grad creates a Node for its output holding the backward formula, the tensors it
/// saved, and one Edge per input. Nodes point only to their inputs' nodes, and an op saves its
/// own output only detached (no grad_fn), so the graph has no reference cycles.
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/autograd/grad_mode.h"
#include "core/small_blocks.h"
#include "core/tensor.h"

namespace nudge::autograd {

class Node;
using Grads = std::vector<Tensor>;

/// Where the gradient of one input goes, and the input's shape (the engine sums a broadcast
/// gradient down to it). `node` is null for an input that does not require grad.
struct Edge {
  std::shared_ptr<Node> node;
  Shape shape;
};
/// A node's edges; their memory comes from the per-thread small blocks like the node's own.
using Edges = std::vector<Edge, small_blocks::Allocator<Edge>>;

class Node {
 public:
  /// A name with static storage duration (a string literal), kept by address: nudge's own ops
  /// name their nodes this way, which spares a string copy per recorded op.
  struct StaticName {
    const char* text;
  };
  explicit Node(std::string name) : owned_name_(std::move(name)), name_(owned_name_) {}
  explicit Node(StaticName name) : name_(name.text) {}
  /// Releases the chain of inputs iteratively: a 100,000-op graph must not overflow the stack
  /// when its last handle goes away.
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  /// Gradients w.r.t. each input (in the output's broadcast shape), given the output's gradient.
  virtual Grads apply(const Tensor& grad_output) = 0;
  /// Drops saved tensors after a backward without retain_graph.
  virtual void release_saved() {}

  std::string_view name() const { return name_; }
  const Edges& next_edges() const { return next_; }
  void set_next_edges(Edges next) { next_ = std::move(next); }

 private:
  std::string owned_name_;  // empty for a StaticName
  std::string_view name_;
  Edges next_;
};

/// Throws the error for a backward through a node whose saved tensors were freed (out of line).
[[noreturn]] void throw_backward_twice(std::string_view node_name);

/// A node whose backward is a function object (usually a lambda capturing SavedTensors), so an
/// op's forward and backward sit next to each other in the source. The closure lives inside the
/// node: one allocation per recorded op, and no std::function.
template <class Backward> class FunctionNode : public Node {
 public:
  template <class Name>
  FunctionNode(Name name, Backward backward) : Node(std::move(name)), backward_(std::move(backward)) {}
  Grads apply(const Tensor& grad_output) override {
    if (!backward_) throw_backward_twice(name());
    return (*backward_)(grad_output);
  }
  void release_saved() override { backward_.reset(); }

 private:
  std::optional<Backward> backward_;
};

/// The sink of a leaf tensor: adds incoming gradients into its `.grad()`. Holds the leaf
/// strongly; the leaf holds this node only weakly (no cycle).
class AccumulateGrad : public Node {
 public:
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf)
      : Node(StaticName{"AccumulateGrad"}), leaf_(std::move(leaf)) {}
  Grads apply(const Tensor& grad_output) override;

 private:
  std::shared_ptr<TensorImpl> leaf_;
};

/// A tensor saved for backward, with the storage version it had; using it after an in-place
/// change throws, naming the op.
class SavedTensor {
 public:
  SavedTensor() = default;
  /// `is_output`: the op's own output, saved detached to avoid a reference cycle.
  SavedTensor(const Tensor& t, const char* op, bool is_output = false);
  const Tensor& get() const;

 private:
  Tensor tensor_;
  std::uint64_t version_ = 0;
  const char* op_ = "";
};

/// True when grad mode is on and any input requires grad: the op must record a node.
bool needs_grad(std::span<const Tensor* const> inputs);
inline bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  return needs_grad(std::span<const Tensor* const>(inputs.begin(), inputs.size()));
}

/// Makes `node` the grad_fn of `output`, with one edge per input.
void set_history(Tensor& output, std::shared_ptr<Node> node, std::span<const Tensor* const> inputs);

/// Records `backward` as the grad_fn of `output` when needs_grad(inputs) (the custom-op API; a
/// template so that the no-grad path builds nothing). `op` is copied into the node (a
/// Node::StaticName is kept by address instead).
template <class Name, class Backward>
void record(Name op, Tensor& output, std::span<const Tensor* const> inputs, Backward&& backward) {
  if (!needs_grad(inputs)) return;
  using NodeType = FunctionNode<std::decay_t<Backward>>;
  if constexpr (std::is_same_v<Name, Node::StaticName>)
    set_history(output, small_blocks::make_shared<NodeType>(op, std::forward<Backward>(backward)), inputs);
  else
    set_history(output, small_blocks::make_shared<NodeType>(std::string(op), std::forward<Backward>(backward)), inputs);
}
/// record for a fixed list of inputs: `record("mul", y, {&a, &b}, ...)`.
template <class Name, class Backward>
void record(Name op, Tensor& output, std::initializer_list<const Tensor*> inputs, Backward&& backward) {
  record(op, output, std::span<const Tensor* const>(inputs.begin(), inputs.size()), std::forward<Backward>(backward));
}

}  // namespace nudge::autograd

/// How every nudge op records its backward, the one rule in one place: the closure, and whatever
/// its captures save (a SavedTensor of an output detaches it, which allocates), is built only
/// when grad mode is on and some input requires grad. `op` names the node by address, so it must
/// be a string with static storage (a literal, or a name table's entry). Inputs go in parentheses:
///     NUDGE_RECORD("mul", y, (&a, &b), [a_ = SavedTensor(a, "mul"), ...](const Tensor& g) {...});
#define NUDGE_RECORD(op, output, inputs, ...)                                                                \
  do {                                                                                                       \
    if (::nudge::autograd::needs_grad(NUDGE_RECORD_INPUTS inputs))                                           \
      ::nudge::autograd::record(::nudge::autograd::Node::StaticName{op}, output, NUDGE_RECORD_INPUTS inputs, \
                                __VA_ARGS__);                                                                \
  } while (0)
#define NUDGE_RECORD_INPUTS(...) \
  { __VA_ARGS__ }

namespace nudge::autograd {

/// The node that receives the gradient of `t`: its grad_fn, or its leaf accumulator.
std::shared_ptr<Node> gradient_edge(const Tensor& t);

}  // namespace nudge::autograd

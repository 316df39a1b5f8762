// The engine: one iterative pass to count each node's consumers, then Kahn's algorithm, so
// a node runs only after every gradient flowing into it has been summed. No recursion: a chain
// of 100,000 ops backpropagates on an ordinary stack.
#include "core/autograd/engine.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/autograd/hooks.h"
#include "core/autograd/node.h"
#include "core/ops.h"

namespace nudge::autograd {

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  Tensor g = grad;
  const auto lead = g.dim() - static_cast<std::int64_t>(shape.size());
  for (std::int64_t i = 0; i < lead; ++i) g = sum(g, 0);
  for (std::size_t d = 0; d < shape.size(); ++d)
    if (shape[d] == 1 && g.shape()[d] != 1) g = sum(g, static_cast<std::int64_t>(d), /*keepdim=*/true);
  NUDGE_CHECK(g.shape() == shape, "backward: internal error, gradient of shape ", shape_str(grad.shape()),
              " does not reduce to the input shape ", shape_str(shape));
  return g;
}

namespace {

void check_finite(const Tensor& grad, const Node& node, std::size_t input) {
  for (double v : grad.to_vector<double>())
    NUDGE_CHECK(std::isfinite(v), "anomaly: the backward of ", node.name(), " produced ", std::isnan(v) ? "NaN" : "Inf",
                " in the gradient of its input ", input, " (", describe(grad), ")");
}

/// One backward's bookkeeping per reachable node: how many of its consumers are still to deliver
/// a gradient, and the sum of those delivered. An open-addressing table keyed by the node's
/// address: a small graph's backward does a few dozen lookups, and std::unordered_map's
/// allocation per entry cost more than the arithmetic of a tiny network's step. Kept per backward
/// call (not in the nodes) so that threads may backpropagate through shared graphs at once.
class NodeTable {
 public:
  struct Entry {
    Node* node = nullptr;
    int dependencies = 0;
    Tensor grad;  // undefined until a consumer delivers one
  };

  NodeTable() : entries_(16) {}

  /// The entry of `node`, added (with no dependencies and no gradient) when missing.
  Entry& at(Node* node) {
    Entry* e = &probe(node);
    if (e->node == nullptr) {
      if (2 * (size_ + 1) > entries_.size()) {
        grow();
        e = &probe(node);
      }
      e->node = node;
      ++size_;
    }
    return *e;
  }

 private:
  Entry& probe(Node* node) {
    const std::size_t mask = entries_.size() - 1;
    // Fibonacci hashing of the address; nodes are heap objects, so the low bits carry little.
    std::size_t i = (reinterpret_cast<std::uintptr_t>(node) * 0x9E3779B97F4A7C15ULL) >> 20 & mask;
    while (entries_[i].node != nullptr && entries_[i].node != node) i = (i + 1) & mask;
    return entries_[i];
  }
  void grow() {
    std::vector<Entry> old(entries_.size() * 2);
    old.swap(entries_);
    for (Entry& e : old)
      if (e.node != nullptr) probe(e.node) = std::move(e);
  }

  std::vector<Entry> entries_;  // a power of two, at most half full
  std::size_t size_ = 0;
};

}  // namespace

void backward(const Tensor& root, const Tensor& grad_output, bool retain_graph) {
  std::shared_ptr<Node> root_node = gradient_edge(root);
  NoGradGuard no_grad;              // backward formulas are not themselves recorded
  detail::CallbackScope callbacks;  // what hooks queue (autograd/hooks.h) runs once the graph is done

  // Count, for every reachable node, how many edges lead into it.
  NodeTable table;
  std::vector<Node*> stack{root_node.get()};
  table.at(root_node.get());
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    for (const Edge& e : node->next_edges()) {
      if (!e.node) continue;
      if (table.at(e.node.get()).dependencies++ == 0) stack.push_back(e.node.get());
    }
  }

  table.at(root_node.get()).grad = grad_output;
  std::vector<Node*> ready{root_node.get()};
  while (!ready.empty()) {
    Node* node = ready.back();
    ready.pop_back();
    Tensor grad = std::move(table.at(node).grad);
    Grads input_grads = node->apply(grad);
    grad = Tensor();
    if (!retain_graph) node->release_saved();
    const auto& edges = node->next_edges();
    for (std::size_t i = 0; i < edges.size(); ++i) {
      Node* next = edges[i].node.get();
      if (!next) continue;
      NodeTable::Entry& entry = table.at(next);
      if (i < input_grads.size() && input_grads[i].defined()) {
        Tensor g = sum_to(input_grads[i], edges[i].shape);
        if (AnomalyMode::is_enabled()) check_finite(g, *node, i);
        entry.grad = entry.grad.defined() ? entry.grad + g : g;  // fan-in: gradients from every consumer add up
      }
      if (--entry.dependencies == 0) {
        // A node none of whose consumers produced a gradient is skipped, with its subtree's counts.
        if (entry.grad.defined()) ready.push_back(next);
        else {
          std::vector<Node*> skip{next};
          while (!skip.empty()) {
            Node* s = skip.back();
            skip.pop_back();
            for (const Edge& e : s->next_edges()) {
              if (!e.node) continue;
              NodeTable::Entry& child = table.at(e.node.get());
              if (--child.dependencies == 0) (child.grad.defined() ? ready : skip).push_back(e.node.get());
            }
          }
        }
      }
    }
  }
  callbacks.run();
}

}  // namespace nudge::autograd

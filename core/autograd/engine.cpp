// The engine: one iterative pass to count each node's consumers, then Kahn's algorithm, so
// a node runs only after every gradient flowing into it has been summed. No recursion: a chain
// of 100,000 ops backpropagates on an ordinary stack.
#include "core/autograd/engine.h"

#include <cmath>
#include <unordered_map>

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

}  // namespace

void backward(const Tensor& root, const Tensor& grad_output, bool retain_graph) {
  std::shared_ptr<Node> root_node = gradient_edge(root);
  NoGradGuard no_grad;              // backward formulas are not themselves recorded
  detail::CallbackScope callbacks;  // what hooks queue (autograd/hooks.h) runs once the graph is done

  // Count, for every reachable node, how many edges lead into it.
  std::unordered_map<Node*, int> dependencies;
  std::vector<Node*> stack{root_node.get()};
  dependencies[root_node.get()] = 0;
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    for (const Edge& e : node->next_edges()) {
      if (!e.node) continue;
      if (dependencies[e.node.get()]++ == 0) stack.push_back(e.node.get());
    }
  }

  std::unordered_map<Node*, Tensor> pending_grads{{root_node.get(), grad_output}};
  std::vector<Node*> ready{root_node.get()};
  while (!ready.empty()) {
    Node* node = ready.back();
    ready.pop_back();
    Tensor grad = std::move(pending_grads[node]);
    pending_grads.erase(node);
    Grads input_grads = node->apply(grad);
    grad = Tensor();
    if (!retain_graph) node->release_saved();
    const auto& edges = node->next_edges();
    for (std::size_t i = 0; i < edges.size(); ++i) {
      Node* next = edges[i].node.get();
      if (!next) continue;
      if (i < input_grads.size() && input_grads[i].defined()) {
        Tensor g = sum_to(input_grads[i], edges[i].shape);
        if (AnomalyMode::is_enabled()) check_finite(g, *node, i);
        Tensor& slot = pending_grads[next];
        slot = slot.defined() ? slot + g : g;  // fan-in: gradients from every consumer add up
      }
      if (--dependencies[next] == 0) {
        // A node none of whose consumers produced a gradient is skipped, with its subtree's counts.
        if (pending_grads.count(next)) ready.push_back(next);
        else {
          std::vector<Node*> skip{next};
          while (!skip.empty()) {
            Node* s = skip.back();
            skip.pop_back();
            for (const Edge& e : s->next_edges())
              if (e.node && --dependencies[e.node.get()] == 0) {
                if (pending_grads.count(e.node.get())) ready.push_back(e.node.get());
                else skip.push_back(e.node.get());
              }
          }
        }
      }
    }
  }
  callbacks.run();
}

}  // namespace nudge::autograd

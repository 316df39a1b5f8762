#pragma once
/// The backward pass: walks the recorded graph from a root in dependency order.
#include "core/tensor.h"

namespace nudge::autograd {

/// Back-propagates `grad_output` (same shape as `root`) through the graph behind `root`,
/// accumulating into the `.grad()` of every leaf that requires grad.
void backward(const Tensor& root, const Tensor& grad_output, bool retain_graph);

/// Sums `grad` over broadcast dims so it has `shape` (the inverse of broadcasting).
Tensor sum_to(const Tensor& grad, const Shape& shape);

}  // namespace nudge::autograd

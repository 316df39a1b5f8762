#pragma once
/// Numerical gradient checking: compares the Jacobian autograd computes with central
/// differences, in float64.
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace nudge::autograd {

struct GradcheckResult {
  bool ok = true;
  /// On failure: the worst element (input, index, output element, both values, the tolerance).
  std::string report;
  explicit operator bool() const { return ok; }
};

/// Checks d f(inputs) / d inputs. Every input must be a float64 leaf with requires_grad; `f` must
/// be a pure function of them (it is called 2·N+1 times for N input elements).
/// An element passes when |analytical − numerical| ≤ atol + rtol·|numerical|.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& inputs,
                          double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3);

}  // namespace nudge::autograd

#include "core/autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "core/autograd/grad_mode.h"
#include "core/factory.h"
#include "core/ops.h"

namespace nudge::autograd {

namespace {

/// f evaluated at `inputs` with element `index` of input `which` moved by `delta`.
std::vector<double> evaluate_shifted(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                     const std::vector<Tensor>& inputs, std::size_t which, std::int64_t index,
                                     double delta) {
  NoGradGuard no_grad;
  std::vector<Tensor> shifted = inputs;
  std::vector<double> values = inputs[which].to_vector<double>();
  values[index] += delta;
  shifted[which] = tensor(values, inputs[which].shape(), TensorOptions(kFloat64).device(inputs[which].device()));
  return f(shifted).to_vector<double>();
}

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& inputs,
                          double eps, double atol, double rtol) {
  for (std::size_t i = 0; i < inputs.size(); ++i)
    NUDGE_CHECK(inputs[i].dtype() == kFloat64 && inputs[i].requires_grad() && inputs[i].is_leaf(), "gradcheck: input ",
                i, " must be a float64 leaf with requires_grad, got a ", describe(inputs[i]));
  const Tensor out = f(inputs);
  NUDGE_CHECK(out.dtype() == kFloat64, "gradcheck: f must return float64, got a ", describe(out));
  NUDGE_CHECK(out.requires_grad(), "gradcheck: the output of f does not depend on any input");

  // Analytical Jacobian, one row per output element: backward of a one-hot gradient.
  const std::int64_t n_out = out.numel();
  std::vector<std::vector<std::vector<double>>> analytical(inputs.size(), std::vector<std::vector<double>>(n_out));
  for (std::int64_t j = 0; j < n_out; ++j) {
    for (const Tensor& in : inputs) const_cast<Tensor&>(in).set_grad(Tensor());
    std::vector<double> one_hot(static_cast<std::size_t>(n_out), 0.0);
    one_hot[j] = 1.0;
    out.backward(tensor(one_hot, out.shape(), TensorOptions(kFloat64).device(out.device())), /*retain_graph=*/true);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const Tensor g = inputs[i].grad();
      analytical[i][j] = g.defined() ? g.to_vector<double>() : std::vector<double>(inputs[i].numel(), 0.0);
    }
  }
  for (const Tensor& in : inputs) const_cast<Tensor&>(in).set_grad(Tensor());

  GradcheckResult result;
  double worst_excess = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    for (std::int64_t k = 0; k < inputs[i].numel(); ++k) {
      const std::vector<double> plus = evaluate_shifted(f, inputs, i, k, eps);
      const std::vector<double> minus = evaluate_shifted(f, inputs, i, k, -eps);
      for (std::int64_t j = 0; j < n_out; ++j) {
        const double numerical = (plus[j] - minus[j]) / (2 * eps), got = analytical[i][j][k];
        const double allowed = atol + rtol * std::fabs(numerical), error = std::fabs(got - numerical);
        if (error <= allowed) continue;
        result.ok = false;
        if (error - allowed <= worst_excess) continue;
        worst_excess = error - allowed;
        std::ostringstream report;
        report << "gradcheck failed: d output[" << j << "] / d input " << i << "[" << k << "] (input "
               << describe(inputs[i]) << "): analytical " << got << " vs numerical " << numerical << ", |difference| "
               << error << " > atol + rtol*|numerical| = " << allowed;
        result.report = report.str();
      }
    }
  }
  return result;
}

}  // namespace nudge::autograd

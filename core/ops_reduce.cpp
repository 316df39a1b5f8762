// Reductions: every reduction is expressed as a dense [outer, reduce, inner] problem over a
// contiguous input, so each backend implements one kernel shape for all dims.
#include <cmath>
#include <optional>

#include "core/autograd/node.h"
#include "kernels/dispatch.h"
#include "core/factory.h"
#include "core/ops.h"
#include "core/ops_checks.h"
#include "core/ops_internal.h"

// core reaches the backends only through the dispatch tables and the plain-data calls.
using namespace nudge::kernels;  // NOLINT(google-build-using-namespace)

namespace nudge {

namespace {

struct ReduceResult {
  Tensor values;
  Tensor indices;  // int64, only for ReduceOp::Max and Min
};

ReduceResult reduce(ReduceOp op, const Tensor& x, std::optional<std::int64_t> dim, bool keepdim, const char* name) {
  detail::check_defined(x, name);
  if (x.dtype() == kBool) {
    // As PyTorch: a mask sums as int64 (a count); its max and min stay bool.
    ReduceResult r = reduce(op, x.to(kInt64), dim, keepdim, name);
    if (op != ReduceOp::Sum) r.values = r.values.to(kBool);
    return r;
  }
  const Tensor input = x.contiguous();
  std::int64_t outer = 1, reduce = x.numel(), inner = 1;
  Shape out_shape;
  if (dim) {
    const std::int64_t d = wrap_dim(*dim, x.dim(), name);
    out_shape = x.shape();
    if (x.dim() > 0) {
      reduce = x.shape()[d];
      for (std::int64_t i = 0; i < d; ++i) outer *= x.shape()[i];
      for (std::int64_t i = d + 1; i < x.dim(); ++i) inner *= x.shape()[i];
      if (keepdim) out_shape[d] = 1;
      else out_shape.erase(out_shape.begin() + d);
    }
  } else if (keepdim) {
    out_shape.assign(x.dim(), 1);
  }
  // As PyTorch: a max over a zero-length dim has no answer, even when the result would be empty.
  const bool extreme = op != ReduceOp::Sum;
  NUDGE_CHECK(!extreme || reduce > 0, name, ": cannot reduce over zero elements of a ", describe(x),
              dim ? " along dim " + std::to_string(*dim) : std::string());
  const TensorOptions options = TensorOptions(x.dtype()).device(x.device());
  ReduceResult r{empty(out_shape, options), {}};
  if (extreme) r.indices = empty(out_shape, options.dtype(kInt64));
  if (outer * inner == 0) return r;
  ReduceCall call{op,
                  x.dtype(),
                  input.data_ptr(),
                  r.values.data_ptr(),
                  extreme ? r.indices.data_ptr<std::int64_t>() : nullptr,
                  outer,
                  reduce,
                  inner};
  dispatch::reduce.run(x.device(), name, call);
  return r;
}

Tensor mean_of(const Tensor& x, std::optional<std::int64_t> dim, bool keepdim) {
  detail::check_defined(x, "mean");
  // The fraction of a mask that is true, in the default float dtype (PyTorch asks for a cast here).
  if (x.dtype() == kBool) return mean_of(x.to(kFloat32), dim, keepdim);
  detail::check_floating(x, "mean");
  Tensor total = dim ? sum(x, *dim, keepdim) : sum(x);
  const std::int64_t count = x.numel() == 0 ? 0 : x.numel() / std::max<std::int64_t>(total.numel(), 1);
  return div(total, Scalar(count));
}

}  // namespace

using autograd::Grads;
using autograd::record;
using autograd::SavedTensor;

/// The gradient of a reduction over `dim` broadcast back to the input's shape.
Tensor expand_reduced(const Tensor& g, const Shape& input_shape, std::optional<std::int64_t> dim, bool keepdim) {
  if (dim && !keepdim && !input_shape.empty()) return g.unsqueeze(*dim).expand(input_shape);
  return g.expand(input_shape);
}

Tensor sum(const Tensor& x) {
  Tensor y = reduce(ReduceOp::Sum, x, std::nullopt, false, "sum").values;
  NUDGE_RECORD("sum", y, (&x), [shape = x.shape()](const Tensor& g) { return Grads{g.expand(shape)}; });
  return y;
}

bool all_finite(const Tensor& x) {
  detail::check_defined(x, "all_finite");
  if (!is_floating(x.dtype())) return true;
  NoGradGuard no_grad;
  // x·0 is ±0 for every finite x and NaN for NaN and ±inf, so the sum is 0 exactly when all are
  // finite (a sum of x itself could overflow to inf on finite values).
  return sum(x * 0.0).item<double>() == 0;
}

Tensor sum(const Tensor& x, std::int64_t dim, bool keepdim) {
  Tensor y = reduce(ReduceOp::Sum, x, dim, keepdim, "sum").values;
  NUDGE_RECORD("sum", y, (&x), [shape = x.shape(), d = wrap_dim(dim, x.dim(), "sum"), keepdim](const Tensor& g) {
    return Grads{expand_reduced(g, shape, d, keepdim)};
  });
  return y;
}

// any and all count the true (nonzero) elements: an empty any is false, an empty all true.
Tensor any(const Tensor& x) { return gt(sum(ne(x, 0)), 0); }
Tensor any(const Tensor& x, std::int64_t dim, bool keepdim) { return gt(sum(ne(x, 0), dim, keepdim), 0); }
Tensor all(const Tensor& x) { return eq(sum(logical_not(x)), 0); }
Tensor all(const Tensor& x, std::int64_t dim, bool keepdim) { return eq(sum(logical_not(x), dim, keepdim), 0); }

// mean is sum then div: both record, so its gradient needs no formula of its own.
Tensor mean(const Tensor& x) { return mean_of(x, std::nullopt, false); }
Tensor mean(const Tensor& x, std::int64_t dim, bool keepdim) { return mean_of(x, dim, keepdim); }

// The gradient of a full max (min) is shared evenly by every element equal to it, or by the NaNs
// when it is NaN (PyTorch's rule).
Tensor extreme_of_all(ReduceOp op, const Tensor& x, const char* name) {
  Tensor y = reduce(op, x, std::nullopt, false, name).values;
  NUDGE_RECORD(name, y, (&x), [x_ = SavedTensor(x, name), y_ = SavedTensor(y, name, true)](const Tensor& g) {
    const Tensor& v = x_.get();
    const Tensor& m = y_.get();
    const Tensor winners = eq(v, m) | (isnan(v) & isnan(m));
    return Grads{where(winners, g / sum(winners).to(g.dtype()), 0)};
  });
  return y;
}

// Along a dim, the gradient goes to the index that won (one-hot along dim).
std::tuple<Tensor, Tensor> extreme_along(ReduceOp op, const Tensor& x, std::int64_t dim, bool keepdim,
                                         const char* name) {
  ReduceResult r = reduce(op, x, dim, keepdim, name);
  if (autograd::needs_grad({&x})) {
    const std::int64_t d = wrap_dim(dim, x.dim(), name);
    NUDGE_RECORD(name, r.values, (&x),
                 [idx = SavedTensor(r.indices, name), shape = x.shape(), d, keepdim,
                  options = TensorOptions(x.dtype()).device(x.device())](const Tensor& g) {
                   if (shape.empty()) return Grads{g};
                   Shape positions_shape(shape.size(), 1);
                   positions_shape[d] = shape[d];
                   const Tensor positions = arange(shape[d], options.dtype(kInt64)).view(positions_shape);
                   const Tensor winner = keepdim ? idx.get() : idx.get().unsqueeze(d);
                   return Grads{where(eq(positions, winner), expand_reduced(g, shape, d, keepdim), 0)};
                 });
  }
  return {r.values, r.indices};
}

Tensor max(const Tensor& x) { return extreme_of_all(ReduceOp::Max, x, "max"); }
std::tuple<Tensor, Tensor> max(const Tensor& x, std::int64_t dim, bool keepdim) {
  return extreme_along(ReduceOp::Max, x, dim, keepdim, "max");
}
Tensor min(const Tensor& x) { return extreme_of_all(ReduceOp::Min, x, "min"); }
std::tuple<Tensor, Tensor> min(const Tensor& x, std::int64_t dim, bool keepdim) {
  return extreme_along(ReduceOp::Min, x, dim, keepdim, "min");
}

Tensor argmax(const Tensor& x) { return reduce(ReduceOp::Max, x, std::nullopt, false, "argmax").indices; }
Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim) {
  return reduce(ReduceOp::Max, x, dim, keepdim, "argmax").indices;
}
Tensor argmin(const Tensor& x) { return reduce(ReduceOp::Min, x, std::nullopt, false, "argmin").indices; }
Tensor argmin(const Tensor& x, std::int64_t dim, bool keepdim) {
  return reduce(ReduceOp::Min, x, dim, keepdim, "argmin").indices;
}

// ---- statistics ------------------------------------------------------------------------------
// var and std compute forward from the ops above and record PyTorch's closed-form gradients:
// d var/dx = 2(x − mean)/(N − c). Differentiating through the mean instead would add a term that
// is 0 analytically but NaN when an element is infinite.

namespace {

struct VarianceParts {
  Tensor value;    // the variance
  double divisor;  // max(0, N − correction): 0 gives NaN, as in PyTorch
};

VarianceParts variance(const Tensor& x, std::optional<std::int64_t> dim, bool unbiased, bool keepdim,
                       const char* name) {
  detail::check_defined(x, name);
  detail::check_floating(x, name);
  NoGradGuard no_grad;
  const Tensor mu = dim ? mean(x, *dim, true) : mean(x);
  const Tensor centred = x - mu;
  const Tensor squares = centred * centred;
  Tensor total = dim ? sum(squares, *dim, keepdim) : sum(squares);
  const std::int64_t count = dim ? (x.dim() == 0 ? 1 : x.size(*dim)) : x.numel();
  const double divisor = std::max(0.0, static_cast<double>(count) - (unbiased ? 1.0 : 0.0));
  if (!dim && keepdim) total = total.reshape(Shape(x.dim(), 1));
  return {div(total, Scalar(divisor)), divisor};
}

/// dL/dx from dL/dvar for the variance of x over `dim`.
Tensor variance_backward(const Tensor& grad_var, const Tensor& x, std::optional<std::int64_t> dim, bool keepdim,
                         double divisor) {
  const std::optional<std::int64_t> d = dim ? std::optional(wrap_dim(*dim, x.dim(), "var")) : dim;
  const Tensor mu = dim ? mean(x, *d, true) : mean(x);
  return expand_reduced(grad_var, x.shape(), d, keepdim || !dim) * (2.0 / divisor) * (x - mu);
}

}  // namespace

Tensor var(const Tensor& x, std::optional<std::int64_t> dim, bool unbiased, bool keepdim) {
  auto [y, divisor] = variance(x, dim, unbiased, keepdim, "var");
  NUDGE_RECORD("var", y, (&x), [x_ = SavedTensor(x, "var"), dim, keepdim, divisor = divisor](const Tensor& g) {
    return Grads{variance_backward(g, x_.get(), dim, keepdim, divisor)};
  });
  return y;
}

// d std = d var / (2 std), and 0 where std = 0 (PyTorch's rule: not 0/0).
Tensor std(const Tensor& x, std::optional<std::int64_t> dim, bool unbiased, bool keepdim) {
  auto [v, divisor] = variance(x, dim, unbiased, keepdim, "std");
  Tensor y;
  {
    NoGradGuard no_grad;
    y = sqrt(v);
  }
  NUDGE_RECORD(
      "std", y, (&x),
      [x_ = SavedTensor(x, "std"), y_ = SavedTensor(y, "std", true), dim, keepdim, divisor = divisor](const Tensor& g) {
        const Tensor& s = y_.get();
        const Tensor grad_var = where(ne(s, 0), g / (s * 2), 0);
        return Grads{variance_backward(grad_var, x_.get(), dim, keepdim, divisor)};
      });
  return y;
}

// ‖x‖_p. The 2-norm's gradient x/‖x‖ is 0 where ‖x‖ = 0 (not 0/0), and the ∞-norm's is shared by
// the elements of largest magnitude, as in PyTorch.
namespace {

Tensor norm_of(const Tensor& x, double p, std::optional<std::int64_t> dim, bool keepdim) {
  detail::check_defined(x, "norm");
  detail::check_floating(x, "norm");
  NUDGE_CHECK(p == 1 || p == 2 || (std::isinf(p) && p > 0), "norm: p must be 1, 2 or inf, got ", p);
  const auto reduce_sum = [&](const Tensor& t) { return dim ? sum(t, *dim, keepdim) : sum(t); };
  Tensor y;
  {
    NoGradGuard no_grad;
    if (p == 1) y = reduce_sum(abs(x));
    else if (p == 2) y = sqrt(reduce_sum(x * x));
    else if (x.numel() == 0) y = reduce_sum(x);  // an empty ∞-norm is 0, as in PyTorch
    else y = dim ? std::get<0>(max(abs(x), *dim, keepdim)) : max(abs(x));
  }
  if (!dim && keepdim) y = y.reshape(Shape(x.dim(), 1));
  NUDGE_RECORD("norm", y, (&x),
               [x_ = SavedTensor(x, "norm"), y_ = SavedTensor(y, "norm", true), p, dim, keepdim](const Tensor& g) {
                 const Tensor& v = x_.get();
                 const std::optional<std::int64_t> d = dim ? std::optional(wrap_dim(*dim, v.dim(), "norm")) : dim;
                 const bool kept = keepdim || !dim;  // a full reduction's 0-d result expands as is
                 const Tensor ge = expand_reduced(g, v.shape(), d, kept);
                 const Tensor n = expand_reduced(y_.get(), v.shape(), d, kept);
                 if (p == 1) return Grads{ge * sign(v)};
                 if (p == 2) return Grads{where(ne(n, 0), ge * v / n, 0)};
                 const Tensor winners = eq(abs(v), n);
                 const Tensor count = (dim ? sum(winners, *d, true) : sum(winners)).to(v.dtype());
                 return Grads{where(winners, ge * sign(v) / count, 0)};
               });
  return y;
}

}  // namespace

Tensor norm(const Tensor& x, double p) { return norm_of(x, p, std::nullopt, false); }
Tensor norm(const Tensor& x, double p, std::int64_t dim, bool keepdim) { return norm_of(x, p, dim, keepdim); }

Tensor Tensor::sum() const { return nudge::sum(*this); }
Tensor Tensor::sum(std::int64_t dim, bool keepdim) const { return nudge::sum(*this, dim, keepdim); }
Tensor Tensor::any() const { return nudge::any(*this); }
Tensor Tensor::all() const { return nudge::all(*this); }
Tensor Tensor::mean() const { return nudge::mean(*this); }
Tensor Tensor::mean(std::int64_t dim, bool keepdim) const { return nudge::mean(*this, dim, keepdim); }
Tensor Tensor::max() const { return nudge::max(*this); }
std::tuple<Tensor, Tensor> Tensor::max(std::int64_t dim, bool keepdim) const { return nudge::max(*this, dim, keepdim); }
Tensor Tensor::min() const { return nudge::min(*this); }
std::tuple<Tensor, Tensor> Tensor::min(std::int64_t dim, bool keepdim) const { return nudge::min(*this, dim, keepdim); }
Tensor Tensor::argmax() const { return nudge::argmax(*this); }
Tensor Tensor::argmax(std::int64_t dim, bool keepdim) const { return nudge::argmax(*this, dim, keepdim); }

}  // namespace nudge

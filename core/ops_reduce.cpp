// Reductions: every reduction is expressed as a dense [outer, reduce, inner] problem over a
// contiguous input, so each backend implements one kernel shape for all dims.
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
  Tensor indices;  // int64, only for ReduceOp::Max
};

ReduceResult reduce(ReduceOp op, const Tensor& x, std::optional<std::int64_t> dim, bool keepdim, const char* name) {
  detail::check_defined(x, name);
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
  NUDGE_CHECK(op != ReduceOp::Max || reduce > 0, name, ": cannot reduce over zero elements of a ", describe(x),
              dim ? " along dim " + std::to_string(*dim) : std::string());
  const TensorOptions options = TensorOptions(x.dtype()).device(x.device());
  ReduceResult r{empty(out_shape, options), {}};
  if (op == ReduceOp::Max) r.indices = empty(out_shape, options.dtype(kInt64));
  if (outer * inner == 0) return r;
  ReduceCall call{op,
                  x.dtype(),
                  input.data_ptr(),
                  r.values.data_ptr(),
                  op == ReduceOp::Max ? r.indices.data_ptr<std::int64_t>() : nullptr,
                  outer,
                  reduce,
                  inner};
  dispatch::reduce.get(x.device(), name)(x.device().index(), call);
  return r;
}

Tensor mean_of(const Tensor& x, std::optional<std::int64_t> dim, bool keepdim) {
  detail::check_defined(x, "mean");
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

// mean is sum then div: both record, so its gradient needs no formula of its own.
Tensor mean(const Tensor& x) { return mean_of(x, std::nullopt, false); }
Tensor mean(const Tensor& x, std::int64_t dim, bool keepdim) { return mean_of(x, dim, keepdim); }

// The gradient of a full max is shared evenly by every element equal to the max, or by the NaNs
// when the max is NaN (PyTorch's rule).
Tensor max(const Tensor& x) {
  Tensor y = reduce(ReduceOp::Max, x, std::nullopt, false, "max").values;
  NUDGE_RECORD("max", y, (&x), [x_ = SavedTensor(x, "max"), y_ = SavedTensor(y, "max", true)](const Tensor& g) {
    const Tensor& v = x_.get();
    const Tensor& m = y_.get();
    const Tensor is_nan = 1 - eq(v, v), max_is_nan = 1 - eq(m, m);
    const Tensor winners = eq(v, m) + is_nan * max_is_nan;
    return Grads{detail::keep_where(g / sum(winners), winners)};
  });
  return y;
}

// Along a dim, the gradient goes to the index that won (one-hot along dim).
std::tuple<Tensor, Tensor> max(const Tensor& x, std::int64_t dim, bool keepdim) {
  ReduceResult r = reduce(ReduceOp::Max, x, dim, keepdim, "max");
  if (autograd::needs_grad({&x})) {
    const std::int64_t d = wrap_dim(dim, x.dim(), "max");
    NUDGE_RECORD("max", r.values, (&x),
                 [idx = SavedTensor(r.indices, "max"), shape = x.shape(), d, keepdim,
                  options = TensorOptions(x.dtype()).device(x.device())](const Tensor& g) {
                   if (shape.empty()) return Grads{g};
                   Shape positions_shape(shape.size(), 1);
                   positions_shape[d] = shape[d];
                   const Tensor positions = arange(shape[d], options.dtype(kInt64)).view(positions_shape);
                   const Tensor winner = keepdim ? idx.get() : idx.get().unsqueeze(d);
                   return Grads{detail::keep_where(expand_reduced(g, shape, d, keepdim),
                                                   eq(positions, winner).to(options.dtype()))};
                 });
  }
  return {r.values, r.indices};
}

Tensor argmax(const Tensor& x) { return reduce(ReduceOp::Max, x, std::nullopt, false, "argmax").indices; }
Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim) {
  return reduce(ReduceOp::Max, x, dim, keepdim, "argmax").indices;
}

Tensor Tensor::sum() const { return nudge::sum(*this); }
Tensor Tensor::sum(std::int64_t dim, bool keepdim) const { return nudge::sum(*this, dim, keepdim); }
Tensor Tensor::mean() const { return nudge::mean(*this); }
Tensor Tensor::mean(std::int64_t dim, bool keepdim) const { return nudge::mean(*this, dim, keepdim); }
Tensor Tensor::max() const { return nudge::max(*this); }
std::tuple<Tensor, Tensor> Tensor::max(std::int64_t dim, bool keepdim) const { return nudge::max(*this, dim, keepdim); }
Tensor Tensor::argmax() const { return nudge::argmax(*this); }
Tensor Tensor::argmax(std::int64_t dim, bool keepdim) const { return nudge::argmax(*this, dim, keepdim); }

}  // namespace nudge

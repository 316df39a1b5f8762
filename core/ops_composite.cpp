// Ops built from other ops: their gradients come from the composition, no formulas of their own.
#include "core/factory.h"
#include "core/ops.h"
#include "core/ops_checks.h"

namespace nudge {

Tensor log_softmax(const Tensor& x, std::int64_t dim) {
  detail::check_floating(x, "log_softmax");
  wrap_dim(dim, x.dim(), "log_softmax");
  if (x.numel() == 0) return x.clone();  // nothing to normalise, also along a zero-length dim
  // Subtracting the (detached) row max keeps exp() from overflowing; the result does not depend
  // on the shift, so detaching it loses no gradient.
  const Tensor shifted = x - std::get<0>(max(x, dim, /*keepdim=*/true)).detach();
  return shifted - log(sum(exp(shifted), dim, /*keepdim=*/true));
}

Tensor softmax(const Tensor& x, std::int64_t dim) {
  detail::check_floating(x, "softmax");
  wrap_dim(dim, x.dim(), "softmax");
  if (x.numel() == 0) return x.clone();
  const Tensor e = exp(x - std::get<0>(max(x, dim, /*keepdim=*/true)).detach());
  return e / sum(e, dim, /*keepdim=*/true);
}

Tensor one_hot(const Tensor& indices, std::int64_t num_classes, DType dtype) {
  NUDGE_CHECK(indices.dtype() == kInt64, "one_hot: expects int64 class indices, got a ", describe(indices));
  NUDGE_CHECK(num_classes > 0, "one_hot: num_classes must be positive, got ", num_classes);
  if (indices.numel() > 0) {
    const std::int64_t lo = min(indices).item<std::int64_t>(), hi = max(indices).item<std::int64_t>();
    NUDGE_CHECK(lo >= 0 && hi < num_classes, "one_hot: class indices must be in [0, ", num_classes,
                "), got values in [", lo, ", ", hi, "]");
  }
  Shape classes_shape(indices.dim() + 1, 1);
  classes_shape.back() = num_classes;
  const Tensor classes = arange(num_classes, TensorOptions(kInt64).device(indices.device())).view(classes_shape);
  return eq(indices.unsqueeze(-1), classes).to(dtype);
}

}  // namespace nudge

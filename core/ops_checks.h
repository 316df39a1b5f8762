#pragma once
/// Argument checks shared by the op implementations; each message names the op and operands.
#include "core/autograd/grad_mode.h"
#include "core/tensor.h"

namespace nudge::detail {

inline void check_defined(const Tensor& t, const char* op) {
  NUDGE_CHECK(t.defined(), op, ": got an undefined tensor");
}

inline void check_same_device_and_dtype(const Tensor& a, const Tensor& b, const char* op) {
  check_defined(a, op);
  check_defined(b, op);
  NUDGE_CHECK(a.device() == b.device(), op, ": expected both operands on the same device, got a ", describe(a),
              " and a ", describe(b), "; move one with .to(device)");
  NUDGE_CHECK(a.dtype() == b.dtype(), op, ": expected operands of the same dtype, got a ", describe(a), " and a ",
              describe(b), "; convert one with .to(dtype) (nudge does not promote dtypes)");
}

inline void check_floating(const Tensor& t, const char* op) {
  NUDGE_CHECK(is_floating(t.dtype()), op, ": expects a float32 or float64 tensor, got a ", describe(t));
}

/// Arithmetic refuses bool masks: nudge does not promote, so a mask becomes numbers explicitly.
inline void check_numeric(const Tensor& t, const char* op) {
  NUDGE_CHECK(t.dtype() != DType::Bool, op, ": arithmetic on a bool tensor is not supported, got a ", describe(t),
              "; convert the mask with .to(kFloat32) (nudge does not promote dtypes), select with where(), or "
              "combine masks with logical_and/logical_or/logical_not");
}

/// In-place ops are not recorded in the graph: refuse them where a gradient would be lost.
inline void check_inplace(const Tensor& self, const Tensor* other, const char* op) {
  if (!GradMode::is_enabled()) return;
  const bool self_needs = self.requires_grad(), other_needs = other && other->defined() && other->requires_grad();
  NUDGE_CHECK(
      !self_needs && !other_needs, op, ": in-place op on a ", describe(self), self_needs ? " that requires grad" : "",
      other_needs ? " with an operand that requires grad" : "",
      "; nudge does not record in-place ops. Run it under NoGradGuard (as optimizers do) or use the out-of-place op");
}

}  // namespace nudge::detail

// Comparisons and logical ops: predicates whose result is a bool tensor (one CompareCall kernel
// family, functors in kernels/functors.h). They are piecewise constant, so no gradient flows
// through them; a mask turns into numbers only through an explicit .to(dtype) or where().
#include <cmath>

#include "core/factory.h"
#include "core/ops.h"
#include "core/ops_checks.h"
#include "core/strided_loop.h"
#include "kernels/dispatch.h"

// core reaches the backends only through the dispatch tables and the plain-data calls.
using namespace nudge::kernels;  // NOLINT(google-build-using-namespace)

namespace nudge {

namespace {

const char* compare_name(CompareOp op) {
  switch (op) {
    case CompareOp::Eq: return "eq";
    case CompareOp::Ne: return "ne";
    case CompareOp::Lt: return "lt";
    case CompareOp::Le: return "le";
    case CompareOp::Gt: return "gt";
    case CompareOp::Ge: return "ge";
    case CompareOp::LogicalAnd: return "logical_and";
    case CompareOp::LogicalOr: return "logical_or";
    case CompareOp::LogicalXor: return "logical_xor";
  }
  return "compare";
}

Tensor compare(CompareOp op, const Tensor& a, const Tensor& b, const char* name) {
  detail::check_same_device_and_dtype(a, b, name);
  Tensor out = empty(broadcast_shapes(a.shape(), b.shape(), name), TensorOptions(kBool).device(a.device()));
  if (out.numel() == 0) return out;
  CompareCall call{op, a.dtype(), detail::make_strided_loop<3>(out.shape(), {&out, &a, &b}, name)};
  dispatch::compare.run(out.device(), name, call);
  return out;
}

/// The scalar must be representable in a's dtype, or the comparison would be made against a
/// rounded value (an int64 x < 2.5 would become x < 2): such calls are refused, as nudge never
/// promotes. A bool tensor compares with 0/1 or false/true.
void check_comparable_scalar(const Tensor& a, Scalar s, const char* name) {
  if (a.dtype() == kInt64)
    NUDGE_CHECK(s.is_integral() || (std::trunc(s.to_double()) == s.to_double() && std::fabs(s.to_double()) < 0x1p63),
                name, ": an int64 tensor compares only with an integer, got ", s.to_double(),
                "; convert it with .to(kFloat64) (nudge does not promote dtypes)");
  if (a.dtype() == kBool) {
    const double v = s.to_double();
    NUDGE_CHECK(v == 0 || v == 1, name, ": a bool tensor compares only with 0/1 or false/true, got ", v);
  }
}

Tensor compare(CompareOp op, const Tensor& a, Scalar s, const char* name) {
  detail::check_defined(a, name);
  check_comparable_scalar(a, s, name);
  Tensor out = empty(a.shape(), TensorOptions(kBool).device(a.device()));
  if (out.numel() == 0) return out;
  CompareScalarCall call{op, a.dtype(), s, detail::make_strided_loop<2>(out.shape(), {&out, &a}, name)};
  dispatch::compare_scalar.run(out.device(), name, call);
  return out;
}

Tensor compare(CompareOp op, const Tensor& a, const Tensor& b) { return compare(op, a, b, compare_name(op)); }
Tensor compare(CompareOp op, const Tensor& a, Scalar b) { return compare(op, a, b, compare_name(op)); }

void check_bool_operand(const Tensor& t, const char* op, const char* instead) {
  detail::check_defined(t, op);
  NUDGE_CHECK(t.dtype() == kBool, op, ": expects bool tensors (masks), got a ", describe(t), "; use ", instead,
              " for other dtypes");
}

}  // namespace

Tensor eq(const Tensor& a, const Tensor& b) { return compare(CompareOp::Eq, a, b); }
Tensor eq(const Tensor& a, Scalar b) { return compare(CompareOp::Eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare(CompareOp::Ne, a, b); }
Tensor ne(const Tensor& a, Scalar b) { return compare(CompareOp::Ne, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare(CompareOp::Lt, a, b); }
Tensor lt(const Tensor& a, Scalar b) { return compare(CompareOp::Lt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return compare(CompareOp::Le, a, b); }
Tensor le(const Tensor& a, Scalar b) { return compare(CompareOp::Le, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare(CompareOp::Gt, a, b); }
Tensor gt(const Tensor& a, Scalar b) { return compare(CompareOp::Gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare(CompareOp::Ge, a, b); }
Tensor ge(const Tensor& a, Scalar b) { return compare(CompareOp::Ge, a, b); }

Tensor isnan(const Tensor& x) {
  detail::check_defined(x, "isnan");
  return compare(CompareOp::Ne, x, x, "isnan");  // only NaN differs from itself
}

Tensor logical_and(const Tensor& a, const Tensor& b) { return compare(CompareOp::LogicalAnd, a, b); }
Tensor logical_or(const Tensor& a, const Tensor& b) { return compare(CompareOp::LogicalOr, a, b); }
Tensor logical_xor(const Tensor& a, const Tensor& b) { return compare(CompareOp::LogicalXor, a, b); }
Tensor logical_not(const Tensor& x) { return compare(CompareOp::Eq, x, 0, "logical_not"); }

Tensor operator~(const Tensor& x) {
  check_bool_operand(x, "operator~", "logical_not");
  return logical_not(x);
}
Tensor operator&(const Tensor& a, const Tensor& b) {
  check_bool_operand(a, "operator&", "logical_and");
  check_bool_operand(b, "operator&", "logical_and");
  return logical_and(a, b);
}
Tensor operator|(const Tensor& a, const Tensor& b) {
  check_bool_operand(a, "operator|", "logical_or");
  check_bool_operand(b, "operator|", "logical_or");
  return logical_or(a, b);
}
Tensor operator^(const Tensor& a, const Tensor& b) {
  check_bool_operand(a, "operator^", "logical_xor");
  check_bool_operand(b, "operator^", "logical_xor");
  return logical_xor(a, b);
}

}  // namespace nudge

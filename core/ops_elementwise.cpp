// Elementwise ops: argument checks, output allocation, dispatch. The math itself lives once, in
// kernels/functors.h.
#include "core/dispatch.h"
#include "core/ops.h"
#include "core/ops_checks.h"
#include "core/strided_loop.h"

namespace nudge {

namespace {

const char* unary_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg: return "neg";
    case UnaryOp::Exp: return "exp";
    case UnaryOp::Log: return "log";
    case UnaryOp::Sqrt: return "sqrt";
    case UnaryOp::Abs: return "abs";
    case UnaryOp::Sigmoid: return "sigmoid";
    case UnaryOp::Tanh: return "tanh";
    case UnaryOp::Relu: return "relu";
    case UnaryOp::Pow: return "pow";
  }
  return "unary";
}

const char* binary_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "add";
    case BinaryOp::Sub: return "sub";
    case BinaryOp::Mul: return "mul";
    case BinaryOp::Div: return "div";
    case BinaryOp::Maximum: return "maximum";
    case BinaryOp::Minimum: return "minimum";
    case BinaryOp::Eq: return "eq";
    case BinaryOp::Lt: return "lt";
    case BinaryOp::Gt: return "gt";
  }
  return "binary";
}

bool unary_takes_int64(UnaryOp op) { return op == UnaryOp::Neg || op == UnaryOp::Abs || op == UnaryOp::Relu; }

Tensor unary(UnaryOp op, const Tensor& x, Scalar scalar = 0) {
  const char* name = unary_name(op);
  detail::check_defined(x, name);
  if (!unary_takes_int64(op)) detail::check_floating(x, name);
  Tensor out = empty(x.shape(), TensorOptions(x.dtype()).device(x.device()));
  if (x.numel() == 0) return out;
  UnaryCall call{op, x.dtype(), scalar, detail::make_strided_loop<2>(x.shape(), {&out, &x}, name)};
  dispatch::unary.get(x.device(), name)(x.device().index(), call);
  return out;
}

void check_binary_dtype(BinaryOp op, const Tensor& a) {
  if (op == BinaryOp::Div) detail::check_floating(a, binary_name(op));
}

/// Writes op(a, b) into `out`, whose shape is the broadcast shape.
void run_binary(BinaryOp op, Tensor& out, const Tensor& a, const Tensor& b) {
  const char* name = binary_name(op);
  if (out.numel() == 0) return;
  BinaryCall call{op, a.dtype(), detail::make_strided_loop<3>(out.shape(), {&out, &a, &b}, name)};
  dispatch::binary.get(out.device(), name)(out.device().index(), call);
}

void run_binary_scalar(BinaryOp op, Tensor& out, const Tensor& a, Scalar s, bool scalar_first) {
  const char* name = binary_name(op);
  NUDGE_CHECK(a.dtype() != DType::Int64 || s.is_integral(), name, ": an int64 tensor cannot take the non-integer scalar ",
              s.to_double(), " (nudge does not promote dtypes; convert with .to(kFloat32))");
  if (out.numel() == 0) return;
  BinaryScalarCall call{op, a.dtype(), s, scalar_first, detail::make_strided_loop<2>(out.shape(), {&out, &a}, name)};
  dispatch::binary_scalar.get(out.device(), name)(out.device().index(), call);
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = binary_name(op);
  detail::check_same_device_and_dtype(a, b, name);
  check_binary_dtype(op, a);
  Tensor out = empty(broadcast_shapes(a.shape(), b.shape(), name), TensorOptions(a.dtype()).device(a.device()));
  run_binary(op, out, a, b);
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, Scalar s, bool scalar_first = false) {
  detail::check_defined(a, binary_name(op));
  check_binary_dtype(op, a);
  Tensor out = empty(a.shape(), TensorOptions(a.dtype()).device(a.device()));
  run_binary_scalar(op, out, a, s, scalar_first);
  return out;
}

void binary_inplace(BinaryOp op, Tensor& self, const Tensor& other, const char* name) {
  detail::check_same_device_and_dtype(self, other, name);
  NUDGE_CHECK(broadcast_shapes(self.shape(), other.shape(), name) == self.shape(), name, ": the result of a ",
              describe(self), " and a ", describe(other), " does not fit in place (", shape_str(self.shape()), ")");
  detail::check_writable(self, name);
  // An operand that overlaps self in a different layout would be read after being overwritten.
  const bool aliases = other.storage() == self.storage() &&
                       (other.storage_offset() != self.storage_offset() || other.strides() != self.strides());
  const Tensor source = aliases ? other.clone() : other;
  self.storage()->bump_version();
  run_binary(op, self, self, source);
}

void binary_inplace(BinaryOp op, Tensor& self, Scalar s, const char* name) {
  detail::check_defined(self, name);
  detail::check_writable(self, name);
  self.storage()->bump_version();
  run_binary_scalar(op, self, self, s, false);
}

}  // namespace

Tensor neg(const Tensor& x) { return unary(UnaryOp::Neg, x); }
Tensor exp(const Tensor& x) { return unary(UnaryOp::Exp, x); }
Tensor log(const Tensor& x) { return unary(UnaryOp::Log, x); }
Tensor sqrt(const Tensor& x) { return unary(UnaryOp::Sqrt, x); }
Tensor abs(const Tensor& x) { return unary(UnaryOp::Abs, x); }
Tensor sigmoid(const Tensor& x) { return unary(UnaryOp::Sigmoid, x); }
Tensor tanh(const Tensor& x) { return unary(UnaryOp::Tanh, x); }
Tensor relu(const Tensor& x) { return unary(UnaryOp::Relu, x); }
Tensor pow(const Tensor& x, Scalar exponent) { return unary(UnaryOp::Pow, x, exponent); }

Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Add, a, b); }
Tensor add(const Tensor& a, Scalar b) { return binary(BinaryOp::Add, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Sub, a, b); }
Tensor sub(const Tensor& a, Scalar b) { return binary(BinaryOp::Sub, a, b); }
Tensor sub(Scalar a, const Tensor& b) { return binary(BinaryOp::Sub, b, a, /*scalar_first=*/true); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Mul, a, b); }
Tensor mul(const Tensor& a, Scalar b) { return binary(BinaryOp::Mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Div, a, b); }
Tensor div(const Tensor& a, Scalar b) { return binary(BinaryOp::Div, a, b); }
Tensor div(Scalar a, const Tensor& b) { return binary(BinaryOp::Div, b, a, /*scalar_first=*/true); }
Tensor maximum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Maximum, a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Minimum, a, b); }
Tensor eq(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Eq, a, b); }
Tensor eq(const Tensor& a, Scalar b) { return binary(BinaryOp::Eq, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Lt, a, b); }
Tensor lt(const Tensor& a, Scalar b) { return binary(BinaryOp::Lt, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Gt, a, b); }
Tensor gt(const Tensor& a, Scalar b) { return binary(BinaryOp::Gt, a, b); }

Tensor& Tensor::add_(const Tensor& other) { binary_inplace(BinaryOp::Add, *this, other, "add_"); return *this; }
Tensor& Tensor::add_(Scalar other) { binary_inplace(BinaryOp::Add, *this, other, "add_"); return *this; }
Tensor& Tensor::sub_(const Tensor& other) { binary_inplace(BinaryOp::Sub, *this, other, "sub_"); return *this; }
Tensor& Tensor::sub_(Scalar other) { binary_inplace(BinaryOp::Sub, *this, other, "sub_"); return *this; }
Tensor& Tensor::mul_(const Tensor& other) { binary_inplace(BinaryOp::Mul, *this, other, "mul_"); return *this; }
Tensor& Tensor::mul_(Scalar other) { binary_inplace(BinaryOp::Mul, *this, other, "mul_"); return *this; }

Tensor Tensor::neg() const { return nudge::neg(*this); }
Tensor Tensor::exp() const { return nudge::exp(*this); }
Tensor Tensor::log() const { return nudge::log(*this); }
Tensor Tensor::sqrt() const { return nudge::sqrt(*this); }
Tensor Tensor::abs() const { return nudge::abs(*this); }
Tensor Tensor::sigmoid() const { return nudge::sigmoid(*this); }
Tensor Tensor::tanh() const { return nudge::tanh(*this); }
Tensor Tensor::relu() const { return nudge::relu(*this); }
Tensor Tensor::pow(Scalar exponent) const { return nudge::pow(*this, exponent); }

}  // namespace nudge

// Elementwise ops: argument checks, output allocation, dispatch. The math itself lives once, in
// kernels/functors.h.
#include "core/autograd/node.h"
#include "kernels/dispatch.h"
#include "core/factory.h"
#include "core/ops.h"
#include "core/ops_checks.h"
#include "core/ops_internal.h"
#include "core/strided_loop.h"

// core reaches the backends only through the dispatch tables and the plain-data calls.
using namespace nudge::kernels;  // NOLINT(google-build-using-namespace)

namespace nudge {

namespace {

const char* binary_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "add";
    case BinaryOp::Sub: return "sub";
    case BinaryOp::Mul: return "mul";
    case BinaryOp::Div: return "div";
    case BinaryOp::Maximum: return "maximum";
    case BinaryOp::Minimum: return "minimum";
  }
  return "binary";
}

Tensor unary(UnaryOp op, const Tensor& x, Scalar scalar = 0) {
  const char* name = unary_name(op);
  detail::check_defined(x, name);
  if (!unary_takes_int64(op)) detail::check_floating(x, name);
  detail::check_numeric(x, name);
  Tensor out = empty(x.shape(), TensorOptions(x.dtype()).device(x.device()));
  if (x.numel() == 0) return out;
  UnaryCall call{op, x.dtype(), scalar, detail::make_strided_loop<2>(x.shape(), {&out, &x}, name)};
  dispatch::unary.run(x.device(), name, call);
  return out;
}

void check_binary_dtype(BinaryOp op, const Tensor& a) {
  if (op == BinaryOp::Div) detail::check_floating(a, binary_name(op));
  detail::check_numeric(a, binary_name(op));
}

/// Writes op(a, b) into `out`, whose shape is the broadcast shape.
void run_binary(BinaryOp op, Tensor& out, const Tensor& a, const Tensor& b) {
  const char* name = binary_name(op);
  if (out.numel() == 0) return;
  BinaryCall call{op, a.dtype(), detail::make_strided_loop<3>(out.shape(), {&out, &a, &b}, name)};
  dispatch::binary.run(out.device(), name, call);
}

void run_binary_scalar(BinaryOp op, Tensor& out, const Tensor& a, Scalar s, bool scalar_first) {
  const char* name = binary_name(op);
  NUDGE_CHECK(a.dtype() != DType::Int64 || s.is_integral(), name,
              ": an int64 tensor cannot take the non-integer scalar ", s.to_double(),
              " (nudge does not promote dtypes; convert with .to(kFloat32))");
  if (out.numel() == 0) return;
  BinaryScalarCall call{op, a.dtype(), s, scalar_first, detail::make_strided_loop<2>(out.shape(), {&out, &a}, name)};
  dispatch::binary_scalar.run(out.device(), name, call);
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
  detail::check_numeric(self, name);
  detail::check_inplace(self, &other, name);
  NUDGE_CHECK(broadcast_shapes(self.shape(), other.shape(), name) == self.shape(), name, ": the result of a ",
              describe(self), " and a ", describe(other), " does not fit in place (", shape_str(self.shape()), ")");
  detail::check_writable(self, name);
  const Tensor source = detail::inplace_source(self, other, name);
  self.storage()->bump_version();
  run_binary(op, self, self, source);
}

void binary_inplace(BinaryOp op, Tensor& self, Scalar s, const char* name) {
  detail::check_defined(self, name);
  detail::check_numeric(self, name);
  detail::check_inplace(self, nullptr, name);
  detail::check_writable(self, name);
  self.storage()->bump_version();
  run_binary_scalar(op, self, self, s, false);
}

}  // namespace

// Backward formulas select with where(mask, value, 0) rather than multiplying by a mask, so an inf
// or NaN in `value` never turns a zero of the mask into NaN.

// ---- forward and backward, side by side ----------------------------------------------------
// Each backward gets the output's gradient `g` and returns one gradient per input, in the
// broadcast output shape (the engine sums it down to each input's shape).

using autograd::Grads;
using autograd::needs_grad;
using autograd::record;
using autograd::SavedTensor;

Tensor neg(const Tensor& x) {
  Tensor y = unary(UnaryOp::Neg, x);
  NUDGE_RECORD("neg", y, (&x), [](const Tensor& g) { return Grads{-g}; });
  return y;
}

Tensor exp(const Tensor& x) {
  Tensor y = unary(UnaryOp::Exp, x);
  NUDGE_RECORD("exp", y, (&x), [y_ = SavedTensor(y, "exp", true)](const Tensor& g) { return Grads{g * y_.get()}; });
  return y;
}

Tensor log(const Tensor& x) {
  Tensor y = unary(UnaryOp::Log, x);
  NUDGE_RECORD("log", y, (&x), [x_ = SavedTensor(x, "log")](const Tensor& g) { return Grads{g / x_.get()}; });
  return y;
}

Tensor sin(const Tensor& x) {
  Tensor y = unary(UnaryOp::Sin, x);
  NUDGE_RECORD("sin", y, (&x), [x_ = SavedTensor(x, "sin")](const Tensor& g) { return Grads{g * cos(x_.get())}; });
  return y;
}

Tensor cos(const Tensor& x) {
  Tensor y = unary(UnaryOp::Cos, x);
  NUDGE_RECORD("cos", y, (&x), [x_ = SavedTensor(x, "cos")](const Tensor& g) { return Grads{-(g * sin(x_.get()))}; });
  return y;
}

Tensor log1p(const Tensor& x) {
  Tensor y = unary(UnaryOp::Log1p, x);
  NUDGE_RECORD("log1p", y, (&x), [x_ = SavedTensor(x, "log1p")](const Tensor& g) { return Grads{g / (x_.get() + 1)}; });
  return y;
}

Tensor expm1(const Tensor& x) {
  Tensor y = unary(UnaryOp::Expm1, x);
  NUDGE_RECORD("expm1", y, (&x),
               [y_ = SavedTensor(y, "expm1", true)](const Tensor& g) { return Grads{g * (y_.get() + 1)}; });
  return y;
}

Tensor sqrt(const Tensor& x) {
  Tensor y = unary(UnaryOp::Sqrt, x);
  NUDGE_RECORD("sqrt", y, (&x),
               [y_ = SavedTensor(y, "sqrt", true)](const Tensor& g) { return Grads{g * 0.5 / y_.get()}; });
  return y;
}

Tensor abs(const Tensor& x) {
  Tensor y = unary(UnaryOp::Abs, x);
  NUDGE_RECORD("abs", y, (&x), [x_ = SavedTensor(x, "abs")](const Tensor& g) {
    const Tensor& v = x_.get();
    return Grads{g * sign(v)};  // 0 at 0 and at NaN, as in PyTorch
  });
  return y;
}

Tensor sign(const Tensor& x) {
  Tensor y = unary(UnaryOp::Sign, x);
  NUDGE_RECORD("sign", y, (&x), [](const Tensor& g) { return Grads{zeros_like(g)}; });
  return y;
}

Tensor sigmoid(const Tensor& x) {
  Tensor y = unary(UnaryOp::Sigmoid, x);
  NUDGE_RECORD("sigmoid", y, (&x), [y_ = SavedTensor(y, "sigmoid", true)](const Tensor& g) {
    return Grads{detail::activation_grad(g, y_.get(), Activation::Sigmoid).first};
  });
  return y;
}

Tensor tanh(const Tensor& x) {
  Tensor y = unary(UnaryOp::Tanh, x);
  NUDGE_RECORD("tanh", y, (&x), [y_ = SavedTensor(y, "tanh", true)](const Tensor& g) {
    return Grads{detail::activation_grad(g, y_.get(), Activation::Tanh).first};
  });
  return y;
}

Tensor relu(const Tensor& x) {
  Tensor y = unary(UnaryOp::Relu, x);
  // Zero where the output is ≤ 0; a NaN input passes its gradient on, as in PyTorch.
  NUDGE_RECORD("relu", y, (&x), [y_ = SavedTensor(y, "relu", true)](const Tensor& g) {
    return Grads{detail::activation_grad(g, y_.get(), Activation::ReLU).first};
  });
  return y;
}

Tensor pow(const Tensor& x, Scalar exponent) {
  Tensor y = unary(UnaryOp::Pow, x, exponent);
  NUDGE_RECORD("pow", y, (&x), [x_ = SavedTensor(x, "pow"), e = exponent.to_double()](const Tensor& g) {
    // x^0 is constant: its gradient is 0 everywhere, also at x = 0 where e·x^(e−1) would be 0·inf.
    if (e == 0) return Grads{full(g.shape(), 0, TensorOptions(g.dtype()).device(g.device()))};
    return Grads{g * e * pow(x_.get(), e - 1)};
  });
  return y;
}

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = binary(BinaryOp::Add, a, b);
  NUDGE_RECORD("add", y, (&a, &b), [](const Tensor& g) { return Grads{g, g}; });
  return y;
}

Tensor add(const Tensor& a, Scalar b) {
  Tensor y = binary(BinaryOp::Add, a, b);
  NUDGE_RECORD("add", y, (&a), [](const Tensor& g) { return Grads{g}; });
  return y;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor y = binary(BinaryOp::Sub, a, b);
  NUDGE_RECORD("sub", y, (&a, &b), [](const Tensor& g) { return Grads{g, -g}; });
  return y;
}

Tensor sub(const Tensor& a, Scalar b) {
  Tensor y = binary(BinaryOp::Sub, a, b);
  NUDGE_RECORD("sub", y, (&a), [](const Tensor& g) { return Grads{g}; });
  return y;
}

Tensor sub(Scalar a, const Tensor& b) {
  Tensor y = binary(BinaryOp::Sub, b, a, /*scalar_first=*/true);
  NUDGE_RECORD("sub", y, (&b), [](const Tensor& g) { return Grads{-g}; });
  return y;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = binary(BinaryOp::Mul, a, b);
  NUDGE_RECORD("mul", y, (&a, &b), [a_ = SavedTensor(a, "mul"), b_ = SavedTensor(b, "mul")](const Tensor& g) {
    return Grads{g * b_.get(), g * a_.get()};
  });
  return y;
}

Tensor mul(const Tensor& a, Scalar b) {
  Tensor y = binary(BinaryOp::Mul, a, b);
  NUDGE_RECORD("mul", y, (&a), [b](const Tensor& g) { return Grads{g * b}; });
  return y;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor y = binary(BinaryOp::Div, a, b);
  NUDGE_RECORD("div", y, (&a, &b), [a_ = SavedTensor(a, "div"), b_ = SavedTensor(b, "div")](const Tensor& g) {
    // −g·(a/b)/b, not −g·a/(b·b): b·b under- or overflows long before the quotient does.
    const Tensor& d = b_.get();
    return Grads{g / d, -g * ((a_.get() / d) / d)};
  });
  return y;
}

Tensor div(const Tensor& a, Scalar b) {
  Tensor y = binary(BinaryOp::Div, a, b);
  NUDGE_RECORD("div", y, (&a), [b](const Tensor& g) { return Grads{g / b}; });
  return y;
}

Tensor div(Scalar a, const Tensor& b) {
  Tensor y = binary(BinaryOp::Div, b, a, /*scalar_first=*/true);
  // As PyTorch's a / b = reciprocal(b) · a: −(g·a)·(1/b)², so a = 0 with a tiny b gives 0·inf = NaN
  // there too, and (1/b)² overflows only where the true gradient does.
  NUDGE_RECORD("div", y, (&b), [a, b_ = SavedTensor(b, "div")](const Tensor& g) {
    const Tensor r = div(1.0, b_.get());
    return Grads{-(g * a) * (r * r)};
  });
  return y;
}

// PyTorch's rule: ties split the gradient evenly; elsewhere the larger operand (for maximum) gets
// all of it, selected rather than multiplied by a mask so an infinite gradient leaves 0 behind;
// where either operand is NaN, both get it.
namespace {
Tensor tie_split(const Tensor& g, const Tensor& x, const Tensor& z) { return where(eq(x, z), g * 0.5, g); }
}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor y = binary(BinaryOp::Maximum, a, b);
  NUDGE_RECORD("maximum", y, (&a, &b),
               [a_ = SavedTensor(a, "maximum"), b_ = SavedTensor(b, "maximum")](const Tensor& g) {
                 const Tensor& x = a_.get();
                 const Tensor& z = b_.get();
                 const Tensor shared = tie_split(g, x, z);
                 return Grads{where(lt(x, z), 0, shared), where(gt(x, z), 0, shared)};
               });
  return y;
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  Tensor y = binary(BinaryOp::Minimum, a, b);
  NUDGE_RECORD("minimum", y, (&a, &b),
               [a_ = SavedTensor(a, "minimum"), b_ = SavedTensor(b, "minimum")](const Tensor& g) {
                 const Tensor& x = a_.get();
                 const Tensor& z = b_.get();
                 const Tensor shared = tie_split(g, x, z);
                 return Grads{where(gt(x, z), 0, shared), where(lt(x, z), 0, shared)};
               });
  return y;
}

// min(max(x, lo), hi): the whole gradient where lo ≤ x ≤ hi (a tie is not split: the bounds are
// constants), none outside or where x is NaN (PyTorch's clamp rule).
Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max) {
  detail::check_defined(x, "clamp");
  detail::check_numeric(x, "clamp");
  NUDGE_CHECK(min || max, "clamp: at least one of min and max must be given");
  for (const std::optional<Scalar>& b : {min, max})
    NUDGE_CHECK(!b || is_floating(x.dtype()) || b->is_integral(), "clamp: an int64 tensor cannot take the bound ",
                b->to_double(), " (nudge does not promote dtypes; convert with .to(kFloat32))");
  const auto bound = [&](Scalar s) { return full({}, s, TensorOptions(x.dtype()).device(x.device())); };
  Tensor y;
  {
    NoGradGuard no_grad;
    y = x;
    if (min) y = maximum(y, bound(*min));
    if (max) y = minimum(y, bound(*max));
  }
  NUDGE_RECORD("clamp", y, (&x), [x_ = SavedTensor(x, "clamp"), min, max](const Tensor& g) {
    const Tensor& v = x_.get();
    Tensor inside = min ? ge(v, *min) : le(v, *max);  // false where v is NaN
    if (min && max) inside = inside & le(v, *max);
    return Grads{where(inside, g, 0)};
  });
  return y;
}

Tensor clamp_min(const Tensor& x, Scalar min) { return clamp(x, min, std::nullopt); }
Tensor clamp_max(const Tensor& x, Scalar max) { return clamp(x, std::nullopt, max); }

Tensor& Tensor::add_(const Tensor& other) {
  binary_inplace(BinaryOp::Add, *this, other, "add_");
  return *this;
}
Tensor& Tensor::add_(Scalar other) {
  binary_inplace(BinaryOp::Add, *this, other, "add_");
  return *this;
}
Tensor& Tensor::sub_(const Tensor& other) {
  binary_inplace(BinaryOp::Sub, *this, other, "sub_");
  return *this;
}
Tensor& Tensor::sub_(Scalar other) {
  binary_inplace(BinaryOp::Sub, *this, other, "sub_");
  return *this;
}
Tensor& Tensor::mul_(const Tensor& other) {
  binary_inplace(BinaryOp::Mul, *this, other, "mul_");
  return *this;
}
Tensor& Tensor::mul_(Scalar other) {
  binary_inplace(BinaryOp::Mul, *this, other, "mul_");
  return *this;
}

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

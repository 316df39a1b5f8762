#pragma once
/// The elementwise and reduction math, written ONCE and compiled for both backends:
/// kernels/cpu loops call these on the host, kernels/cuda launches call them on the device.
/// The CPU tests therefore already check the math the GPU runs; only indexing and launch
/// configuration are GPU-specific (and the cross-device tests cover those).
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

#include "core/error.h"
#include "kernels/calls.h"
#include "kernels/unary_ops.h"

namespace nudge::kernels::fn {

// ---- the activation table: written once for the unfused ops, the fused Dense kernels and nn ------
// The formulas and constants are PyTorch's (ATen/native/cpu/Activation.cpp), so that special values
// agree: gelu(−inf) is NaN there and here. `kind` is passed apart from `a` so the CPU loops can make
// it a compile-time constant (visit_activation); `a` carries the parameters.

/// act(z).
template <class T> NUDGE_HD T activate(Activation kind, const ActivationSpec& a, T z) {
  switch (kind) {
    case Activation::Identity: return z;
    case Activation::Sigmoid: return Sigmoid{}(z);
    case Activation::ReLU: return Relu{}(z);
    case Activation::Tanh: return tanh_(z);
    case Activation::GELU: return z * T(0.5) * (T(1) + erf_(z * T(0.70710678118654752440)));
    case Activation::GELUTanh: {
      const T inner = T(0.79788456080286535588) * (z + T(0.044715) * z * z * z);  // √(2/π)(z + κz³)
      return T(0.5) * z * (T(1) + tanh_(inner));
    }
    case Activation::SiLU: return z / (T(1) + exp_(-z));
    case Activation::LeakyReLU: return z > T(0) ? z : z * T(a.param);
    case Activation::Softplus: {
      const T bz = z * T(a.param);
      return bz > T(a.threshold) ? z : log1p_(exp_(bz)) / T(a.param);
    }
    case Activation::ELU: return z > T(0) ? z : expm1_(z) * T(a.param);
  }
  return z;
}

/// Whether act's gradient needs its input z; otherwise it is computed from the output y alone and
/// the fused backward keeps only y. LeakyReLU reads y while its slope is ≥ 0 (y > 0 ⇔ z > 0 then).
NUDGE_HD constexpr bool activation_grad_needs_input(const ActivationSpec& a) {
  switch (a.kind) {
    case Activation::Identity:
    case Activation::Sigmoid:
    case Activation::ReLU:
    case Activation::Tanh: return false;
    case Activation::LeakyReLU: return a.param < 0;
    case Activation::GELU:
    case Activation::GELUTanh:
    case Activation::SiLU:
    case Activation::Softplus:
    case Activation::ELU: return true;
  }
  return false;
}

/// Calls `f(std::integral_constant<Activation, kind>{})`: the activation as a compile-time constant,
/// so a loop over it vectorises (the CPU fused kernels).
template <class F> void visit_activation(Activation kind, F&& f) {
  switch (kind) {
#define NUDGE_VISIT_ACTIVATION(K) \
  case Activation::K: return f(std::integral_constant<Activation, Activation::K>{});
    NUDGE_VISIT_ACTIVATION(Identity)
    NUDGE_VISIT_ACTIVATION(Sigmoid)
    NUDGE_VISIT_ACTIVATION(ReLU)
    NUDGE_VISIT_ACTIVATION(Tanh)
    NUDGE_VISIT_ACTIVATION(GELU)
    NUDGE_VISIT_ACTIVATION(GELUTanh)
    NUDGE_VISIT_ACTIVATION(SiLU)
    NUDGE_VISIT_ACTIVATION(LeakyReLU)
    NUDGE_VISIT_ACTIVATION(Softplus)
    NUDGE_VISIT_ACTIVATION(ELU)
#undef NUDGE_VISIT_ACTIVATION
  }
}

/// dL/dz from dL/dy = g, the output y and (when activation_grad_needs_input) the input z. ReLU
/// selects rather than multiplies: where y ≤ 0 the gradient is 0 even when g is inf or NaN, and a
/// NaN input passes g on (PyTorch's threshold_backward).
template <class T> NUDGE_HD T activation_grad(Activation kind, const ActivationSpec& a, T g, T y, T z) {
  switch (kind) {
    case Activation::Identity: return g;
    case Activation::Sigmoid: return g * y * (T(1) - y);
    case Activation::ReLU: return y <= T(0) ? T(0) : g;
    case Activation::Tanh: return g * (T(1) - y * y);
    case Activation::GELU: {
      const T cdf = T(0.5) * (T(1) + erf_(z * T(0.70710678118654752440)));
      const T pdf = T(0.39894228040143267794) * exp_(z * z * T(-0.5));  // 1/√(2π)
      return g * (cdf + z * pdf);
    }
    case Activation::GELUTanh: {
      const T k_beta = T(0.79788456080286535588), k_kappa = T(0.044715);
      const T z2 = z * z;
      const T t = tanh_(k_beta * (z + k_kappa * z2 * z));
      const T left = T(0.5) * z, right = T(1) + t;
      return g * (T(0.5) * right + left * (T(1) - t * t) * (k_beta * (T(1) + T(3) * k_kappa * z2)));
    }
    case Activation::SiLU: {
      const T s = T(1) / (T(1) + exp_(-z));
      return g * s * (T(1) + z * (T(1) - s));
    }
    case Activation::LeakyReLU: {
      const bool positive = activation_grad_needs_input(a) ? z > T(0) : y > T(0);
      return positive ? g : g * T(a.param);
    }
    case Activation::Softplus: {
      const T bz = z * T(a.param);
      const T e = exp_(bz);
      return bz > T(a.threshold) ? g : g * e / (e + T(1));
    }
    // Tested as PyTorch's elu_backward does (z ≤ 0), so a NaN input passes g on unchanged.
    case Activation::ELU: return z <= T(0) ? g * T(a.param) * exp_(z) : g;
  }
  return g;
}

/// A loss term and its derivative with respect to the input.
template <class T> struct LossTerm {
  T value;
  T grad;
};

/// One element of an elementwise loss (MSE or BCE-with-logits) at input x and target t. The
/// gradient is before loss_grad_scale.
template <class T> NUDGE_HD LossTerm<T> pointwise_loss(LossKind kind, T x, T t) {
  if (kind == LossKind::MSE) {
    const T d = x - t;
    return {d * d, d};  // the 2 of 2·d is in loss_grad_scale: 2·d overflows before the 1/N would
  }
  // BCE on logits: t·softplus(−x) + (1−t)·softplus(x) = log(1 + e^−|x|) + (x > 0 ? (1−t)·x : −t·x).
  // A term whose coefficient is 0 is skipped, so x = ±inf gives the true loss (0 or inf) rather
  // than 0·inf = NaN, and no x·t is formed that could overflow. d/dx = σ(x) − t.
  const T abs_x = x < T(0) ? -x : x;
  const T linear = x > T(0) ? (t == T(1) ? T(0) : (T(1) - t) * x) : (t == T(0) ? T(0) : -t * x);
  return {linear + log1p_(exp_(-abs_x)), Sigmoid{}(x)-t};
}

/// The count a Mean reduction divides by: elements for elementwise losses, rows (samples) for
/// cross-entropy (which then corrects for ignored rows, LossCall::grad_rescale).
NUDGE_HD double loss_mean_count(const LossCall& c) {
  return c.kind == LossKind::CrossEntropy ? double(c.rows) : double(c.rows) * double(c.cols);
}
/// The factor applied to pointwise_loss's gradients: 2 for MSE, times 1/count for Mean.
NUDGE_HD double loss_grad_scale(const LossCall& c) {
  const double factor = c.kind == LossKind::MSE ? 2.0 : 1.0;
  return c.reduction == Reduction::Mean ? factor / loss_mean_count(c) : factor;
}

/// Cross-entropy of one row from its max logit, the sum of exp(x − max) and the target's logit:
/// (max − x[k]) + log Σ, so that huge equal logits (1e16, 1e16) still give log 2.
template <class T> NUDGE_HD T cross_entropy_row(T max_logit, T sum_exp, T target_logit) {
  return (max_logit - target_logit) + log_(sum_exp);
}

/// The numbers an optimizer step uses for a whole parameter, read once from device memory.
struct SlotScalars {
  double lr, bias_correction1, bias_correction2_sqrt;
};
NUDGE_HD SlotScalars sgd_scalars(const SgdStepCall&, const ParamSlot& s) { return {*s.lr, 1, 1}; }
/// Adam's bias corrections 1 − β₁ᵗ and √(1 − β₂ᵗ) for the step t = count + 1, in double as PyTorch.
NUDGE_HD SlotScalars adam_scalars(const AdamStepCall& c, const ParamSlot& s) {
  const double t = *s.step + 1;
  return {*s.lr, 1 - ::pow(c.beta1, t), ::sqrt(1 - ::pow(c.beta2, t))};
}

/// One element of an SGD step (optim/sgd.h). `buf` is the momentum buffer.
template <class T>
NUDGE_HD void sgd_update(T& p, T g, T& buf, const SgdStepCall& c, const ParamSlot& s, const SlotScalars& k) {
  if (c.weight_decay != 0) g = g + p * T(c.weight_decay);
  if (c.momentum != 0) {
    buf = s.first_step ? g : buf * T(c.momentum) + g * T(1 - c.dampening);
    g = c.nesterov ? g + buf * T(c.momentum) : buf;
  }
  p = p - g * T(k.lr);
}

/// One element of an Adam/AdamW step (optim/adam.h). m, v: exp_avg, exp_avg_sq.
template <class T> NUDGE_HD void adam_update(T& p, T g, T& m, T& v, const AdamStepCall& c, const SlotScalars& k) {
  if (c.weight_decay != 0) {
    if (c.decoupled_weight_decay) p = p * T(1 - k.lr * c.weight_decay);
    else g = g + p * T(c.weight_decay);
  }
  m = m * T(c.beta1) + g * T(1 - c.beta1);
  v = v * T(c.beta2) + g * g * T(1 - c.beta2);
  const T denom = sqrt_(v) / T(k.bias_correction2_sqrt) + T(c.eps);
  p = p - m / denom * T(k.lr / k.bias_correction1);
}

/// x^e with the exponent kept in double and the power computed in double: a float32 exponent such
/// as e − 1 in pow's backward would otherwise be rounded first (25 ulp off for x = 1e30, e = 1/3).

// ---- binary ---------------------------------------------------------------------------------
struct Add {
  template <class T> NUDGE_HD T operator()(T a, T b) const { return add_(a, b); }
};
struct Sub {
  template <class T> NUDGE_HD T operator()(T a, T b) const { return sub_(a, b); }
};
struct Mul {
  template <class T> NUDGE_HD T operator()(T a, T b) const { return mul_(a, b); }
};
struct Div {
  template <class T> NUDGE_HD T operator()(T a, T b) const { return a / b; }
};
struct Maximum {
  template <class T> NUDGE_HD T operator()(T a, T b) const { return isnan_(a) || a > b ? a : b; }
};
struct Minimum {
  template <class T> NUDGE_HD T operator()(T a, T b) const { return isnan_(a) || a < b ? a : b; }
};

// ---- predicates (bool results) -----------------------------------------------------------------
// IEEE comparisons: anything compared with NaN is false, except Ne, which is true.
struct Eq {
  template <class T> NUDGE_HD bool operator()(T a, T b) const { return a == b; }
};
struct Ne {
  template <class T> NUDGE_HD bool operator()(T a, T b) const { return a != b; }
};
struct Lt {
  template <class T> NUDGE_HD bool operator()(T a, T b) const { return a < b; }
};
struct Le {
  template <class T> NUDGE_HD bool operator()(T a, T b) const { return a <= b; }
};
struct Gt {
  template <class T> NUDGE_HD bool operator()(T a, T b) const { return a > b; }
};
struct Ge {
  template <class T> NUDGE_HD bool operator()(T a, T b) const { return a >= b; }
};
struct LogicalAnd {
  template <class T> NUDGE_HD bool operator()(T a, T b) const { return a != T(0) && b != T(0); }
};
struct LogicalOr {
  template <class T> NUDGE_HD bool operator()(T a, T b) const { return a != T(0) || b != T(0); }
};
struct LogicalXor {
  template <class T> NUDGE_HD bool operator()(T a, T b) const { return (a != T(0)) != (b != T(0)); }
};

/// f(x, s) and f(s, x) as unary functors: a tensor-scalar op is a unary map.
template <class F, class T> struct ScalarSecond {
  F f;
  T s;
  NUDGE_HD T operator()(T x) const { return f(x, s); }
};
template <class F, class T> struct ScalarFirst {
  F f;
  T s;
  NUDGE_HD T operator()(T x) const { return f(s, x); }
};
/// A predicate against a scalar right-hand side, as a unary map T -> bool.
template <class F, class T> struct CompareWithScalar {
  F f;
  T s;
  NUDGE_HD bool operator()(T x) const { return f(x, s); }
};

/// Dtype conversion for copies. Float to int64 follows one rule on both backends (C++ leaves it
/// undefined, and x86 and the GPU disagree): truncate toward zero, saturate out-of-range values
/// and ±inf to INT64_MIN/INT64_MAX, NaN to 0 (what the GPU's conversion instruction does).
/// To bool: nonzero is true, NaN included; from bool: 0 or 1.
template <class To> struct Cast {
  template <class From> NUDGE_HD To operator()(From x) const {
    if constexpr (std::is_same_v<To, bool>) {
      return x != From(0);  // PyTorch's rule: nonzero, NaN included, is true
    } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
      if (x != x) return To(0);
      // 2^63 is exact in float and double; every float below it converts without overflow.
      constexpr From limit = From(9223372036854775808.0);
      if (x >= limit) return std::numeric_limits<To>::max();
      if (x < -limit) return std::numeric_limits<To>::lowest();
    }
    return static_cast<To>(x);
  }
};

// ---- reductions -------------------------------------------------------------------------------
/// A running value and the index it came from (the index matters only for Max).
template <class A> struct Acc {
  A value;
  std::int64_t index;
};

/// Sum; accumulates float32 in double (as PyTorch's CPU sum is within an ulp or so of the exact
/// sum, a float accumulator is several ulp off on cancelling sums), float64 in double, int64 in
/// int64. The caller rounds the result to T once.
template <class T> struct SumReducer {
  using Wide = std::conditional_t<std::is_floating_point_v<T>, double, T>;
  using A = Acc<Wide>;
  NUDGE_HD A identity() const { return {Wide(0), -1}; }
  NUDGE_HD A combine(A a, A b) const { return {add_(a.value, b.value), -1}; }
};

/// Max (kLargest) or min with the index of its first occurrence; NaN wins (as in PyTorch).
/// Commutative and associative, so any reduction order (CPU loop, CUDA tree) gives the same answer.
template <class T, bool kLargest> struct ExtremeReducer {
  using A = Acc<T>;
  NUDGE_HD A identity() const {
    return {kLargest ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max(), -1};
  }
  NUDGE_HD A combine(A a, A b) const { return better(b, a) ? b : a; }
  NUDGE_HD static bool better(A b, A a) {
    if (b.index < 0) return false;
    if (a.index < 0) return true;
    const bool a_nan = isnan_(a.value), b_nan = isnan_(b.value);
    if (a_nan || b_nan) return a_nan && b_nan ? b.index < a.index : b_nan;
    if (b.value != a.value) return kLargest ? b.value > a.value : b.value < a.value;
    return b.index < a.index;
  }
};
template <class T> using MaxReducer = ExtremeReducer<T, true>;
template <class T> using MinReducer = ExtremeReducer<T, false>;

/// Calls `k(reducer)` with the reducer of `op` for element type T: the one switch both backends use.
template <class T, class K> void visit_reducer(ReduceOp op, K&& k) {
  switch (op) {
    case ReduceOp::Sum: return k(SumReducer<T>{});
    case ReduceOp::Max: return k(MaxReducer<T>{});
    case ReduceOp::Min: return k(MinReducer<T>{});
  }
}

// ---- op enum -> functor, in one place for both backends ---------------------------------------

/// Calls `k(functor)` with the functor of `op` for element type T (Pow gets its exponent).
/// Ops undefined for T (exp of an int64, say) were rejected in core/ops before dispatch.
template <class T, class K> void visit_unary(UnaryOp op, Scalar scalar, K&& k) {
  (void)scalar;
  // Float-only functors are instantiated for float types only; core rejected the rest.
  switch (op) {
#define NUDGE_VISIT_UNARY(Op, name, functor, float_only)                           \
  case UnaryOp::Op:                                                                \
    if constexpr (!(float_only) || std::is_floating_point_v<T>) return k(functor); \
    break;
    NUDGE_UNARY_OPS(NUDGE_VISIT_UNARY)
#undef NUDGE_VISIT_UNARY
  }
  NUDGE_FAIL("unary op ", static_cast<int>(op), " has no kernel for ", dtype_name(dtype_of<T>()));
}

template <class T, class K> void visit_binary(BinaryOp op, K&& k) {
  switch (op) {
    case BinaryOp::Add: return k(Add{});
    case BinaryOp::Sub: return k(Sub{});
    case BinaryOp::Mul: return k(Mul{});
    case BinaryOp::Div:
      if constexpr (std::is_floating_point_v<T>) return k(Div{});
      NUDGE_FAIL("div has no kernel for ", dtype_name(dtype_of<T>()));
    case BinaryOp::Maximum: return k(Maximum{});
    case BinaryOp::Minimum: return k(Minimum{});
  }
}

/// Calls `k(functor)` with the predicate of `op` (every dtype, bool included).
template <class K> void visit_compare(CompareOp op, K&& k) {
  switch (op) {
    case CompareOp::Eq: return k(Eq{});
    case CompareOp::Ne: return k(Ne{});
    case CompareOp::Lt: return k(Lt{});
    case CompareOp::Le: return k(Le{});
    case CompareOp::Gt: return k(Gt{});
    case CompareOp::Ge: return k(Ge{});
    case CompareOp::LogicalAnd: return k(LogicalAnd{});
    case CompareOp::LogicalOr: return k(LogicalOr{});
    case CompareOp::LogicalXor: return k(LogicalXor{});
  }
}

/// A predicate against a scalar as a unary functor T -> bool.
template <class T, class K> void visit_compare_scalar(CompareOp op, Scalar scalar, K&& k) {
  visit_compare(op, [&](auto f) { k(CompareWithScalar<decltype(f), T>{f, scalar.to<T>()}); });
}

/// A tensor-scalar op as a unary functor.
template <class T, class K> void visit_binary_scalar(BinaryOp op, Scalar scalar, bool scalar_first, K&& k) {
  visit_binary<T>(op, [&](auto f) {
    using F = decltype(f);
    if (scalar_first) k(ScalarFirst<F, T>{f, scalar.to<T>()});
    else k(ScalarSecond<F, T>{f, scalar.to<T>()});
  });
}

}  // namespace nudge::kernels::fn

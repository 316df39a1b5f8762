#pragma once
/// The unary ops, declared ONCE: each functor, then the list NUDGE_UNARY_OPS from which the
/// UnaryOp enum (kernels/calls.h), its names (core) and both backends' dispatch (kernels/functors.h
/// visit_unary) are generated. Adding a unary op touches three files and no backend file: this
/// one (functor + list line), core/ops.h (the declaration) and core/ops_elementwise.cpp (the op
/// with its backward).
#include "kernels/scalar_math.h"

namespace nudge::kernels::fn {

struct Neg {
  template <class T> NUDGE_HD T operator()(T x) const { return neg_(x); }
};
/// |x|, with |−0.0| = +0.0 (so 1/|x| is +inf, as in PyTorch) and NaN kept.
struct Abs {
  template <class T> NUDGE_HD T operator()(T x) const { return x < T(0) ? neg_(x) : (x == T(0) ? T(0) : x); }
};
/// −1, 0 or 1; 0 for NaN (PyTorch's sign, whose NaN rule abs's gradient relies on).
struct Sign {
  template <class T> NUDGE_HD T operator()(T x) const { return x > T(0) ? T(1) : x < T(0) ? T(-1) : T(0); }
};
struct Relu {
  // NaN stays NaN (x > 0 is false for NaN, so test the other way round).
  template <class T> NUDGE_HD T operator()(T x) const { return x < T(0) ? T(0) : x; }
};
struct Exp {
  template <class T> NUDGE_HD T operator()(T x) const { return exp_(x); }
};
struct Log {
  template <class T> NUDGE_HD T operator()(T x) const { return log_(x); }
};
struct Log1p {
  template <class T> NUDGE_HD T operator()(T x) const { return log1p_(x); }
};
struct Expm1 {
  template <class T> NUDGE_HD T operator()(T x) const { return expm1_(x); }
};
struct Sin {
  template <class T> NUDGE_HD T operator()(T x) const { return sin_(x); }
};
struct Cos {
  template <class T> NUDGE_HD T operator()(T x) const { return cos_(x); }
};
struct Sqrt {
  template <class T> NUDGE_HD T operator()(T x) const { return sqrt_(x); }
};
struct Tanh {
  template <class T> NUDGE_HD T operator()(T x) const { return tanh_(x); }
};
struct Sigmoid {
  // exp of a non-positive number only, so sigmoid(-400) is a tiny positive, not 0/inf.
  template <class T> NUDGE_HD T operator()(T x) const {
    if (x >= T(0)) return T(1) / (T(1) + exp_(-x));
    const T e = exp_(x);
    return e / (T(1) + e);
  }
};
/// The exponents PyTorch computes by their own formula are computed the same way here, so that
/// special values agree (pow(−inf, 0.5) is sqrt(−inf) = NaN, not C's pow's +inf).
template <class T> struct PowScalar {
  double exponent;
  NUDGE_HD T operator()(T x) const {
    if (exponent == 0.5) return sqrt_(x);
    if (exponent == -0.5) return T(1) / sqrt_(x);
    if (exponent == 2) return x * x;
    if (exponent == 3) return x * x * x;
    if (exponent == -1) return T(1) / x;
    if (exponent == -2) return T(1) / (x * x);
    return static_cast<T>(pow_(static_cast<double>(x), exponent));
  }
};

}  // namespace nudge::kernels::fn

/// X(Op, "name", functor expression (T and `scalar` in scope), float only?).
#define NUDGE_UNARY_OPS(X)               \
  X(Neg, "neg", Neg{}, false)            \
  X(Abs, "abs", Abs{}, false)            \
  X(Sign, "sign", Sign{}, false)         \
  X(Relu, "relu", Relu{}, false)         \
  X(Exp, "exp", Exp{}, true)             \
  X(Log, "log", Log{}, true)             \
  X(Log1p, "log1p", Log1p{}, true)       \
  X(Expm1, "expm1", Expm1{}, true)       \
  X(Sin, "sin", Sin{}, true)             \
  X(Cos, "cos", Cos{}, true)             \
  X(Sqrt, "sqrt", Sqrt{}, true)          \
  X(Sigmoid, "sigmoid", Sigmoid{}, true) \
  X(Tanh, "tanh", Tanh{}, true)          \
  X(Pow, "pow", PowScalar<T>{scalar.to_double()}, true)

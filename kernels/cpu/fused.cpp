// The fused Dense epilogue/prologue on the CPU: one pass over the [rows, cols] matrix each.
#include <type_traits>
#include <vector>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/vector_math.h"
#include "kernels/functors.h"

namespace nudge::kernels::cpu {

namespace {

/// Calls `f(std::integral_constant<Activation, A>{})`: the activation becomes a compile-time
/// constant, so its switch is resolved outside the loops and the loops vectorise.
template <class T, Activation kAct> void bias_activation_impl(const BiasActivationCall& call) {
  T* __restrict y = static_cast<T*>(call.y);
  const T* __restrict bias = static_cast<const T*>(call.bias);
  T* __restrict z_out = static_cast<T*>(call.z_out);
  const ActivationSpec a = call.act;
  // Sigmoid and tanh go through the vectorised functions (vector_math.h, SLEEF) after the bias
  // pass: their scalar libm loop was 5x slower than the unfused bias + sigmoid ops.
  constexpr bool kVectorised = kAct == Activation::Sigmoid || kAct == Activation::Tanh;
  for (std::int64_t r = 0; r < call.rows; ++r) {
    T* __restrict row = y + r * call.cols;
    if (bias)
      for (std::int64_t c = 0; c < call.cols; ++c) row[c] += bias[c];
    if (z_out)
      for (std::int64_t c = 0; c < call.cols; ++c) z_out[r * call.cols + c] = row[c];
    if constexpr (kAct != Activation::Identity && !kVectorised)
      for (std::int64_t c = 0; c < call.cols; ++c) row[c] = fn::activate(kAct, a, row[c]);
  }
  if constexpr (kVectorised) {
    const std::int64_t n = call.rows * call.cols;
    const UnaryOp op = kAct == Activation::Sigmoid ? UnaryOp::Sigmoid : UnaryOp::Tanh;
    if (!vector_math::unary(op, dtype_of<T>(), y, y, n))
      for (std::int64_t i = 0; i < n; ++i) y[i] = fn::activate(kAct, a, y[i]);
  }
}

template <class T, Activation kAct> void activation_backward_impl(const ActivationBackwardCall& call) {
  const T* __restrict gy = static_cast<const T*>(call.grad_y);
  const T* __restrict y = static_cast<const T*>(call.y);
  T* __restrict gz = static_cast<T*>(call.grad_z);
  T* __restrict gb = static_cast<T*>(call.grad_bias);
  const T* __restrict z = static_cast<const T*>(call.z);
  const ActivationSpec a = call.act;
  std::vector<double> column_sums(gb ? static_cast<std::size_t>(call.cols)
                                     : 0);  // double: sums of many rows stay exact
  double* __restrict sums = column_sums.data();
  for (std::int64_t r = 0; r < call.rows; ++r) {
    const std::int64_t base = r * call.cols;
    for (std::int64_t c = 0; c < call.cols; ++c)
      gz[base + c] = fn::activation_grad(kAct, a, gy[base + c], y[base + c], z ? z[base + c] : T(0));
    if (gb)
      for (std::int64_t c = 0; c < call.cols; ++c) sums[c] += gz[base + c];
  }
  for (std::size_t c = 0; c < column_sums.size(); ++c) gb[c] = static_cast<T>(column_sums[c]);
}

}  // namespace

void bias_activation(int, const BiasActivationCall& call) {
  visit_float_dtype(call.dtype, "linear", [&](auto tag) {
    using T = decltype(tag);
    fn::visit_activation(call.act.kind, [&](auto act) { bias_activation_impl<T, decltype(act)::value>(call); });
  });
}

void activation_backward(int, const ActivationBackwardCall& call) {
  visit_float_dtype(call.dtype, "linear backward", [&](auto tag) {
    using T = decltype(tag);
    fn::visit_activation(call.act.kind, [&](auto act) { activation_backward_impl<T, decltype(act)::value>(call); });
  });
}

}  // namespace nudge::kernels::cpu

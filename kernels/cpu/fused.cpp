// The fused Dense epilogue/prologue on the CPU: one pass over the [rows, cols] matrix each.
#include <vector>

#include "kernels/cpu/kernels.h"
#include "kernels/functors.h"

namespace nudge::cpu {

namespace {

template <class T>
void bias_activation_impl(const BiasActivationCall& call) {
  T* y = static_cast<T*>(call.y);
  const T* bias = static_cast<const T*>(call.bias);
  for (std::int64_t r = 0; r < call.rows; ++r) {
    T* row = y + r * call.cols;
    for (std::int64_t c = 0; c < call.cols; ++c) row[c] = fn::activate(call.act, bias ? row[c] + bias[c] : row[c]);
  }
}

template <class T>
void activation_backward_impl(const ActivationBackwardCall& call) {
  const T* gy = static_cast<const T*>(call.grad_y);
  const T* y = static_cast<const T*>(call.y);
  T* gz = static_cast<T*>(call.grad_z);
  T* gb = static_cast<T*>(call.grad_bias);
  std::vector<double> column_sums(gb ? static_cast<std::size_t>(call.cols) : 0);  // double: sums of many rows stay exact
  for (std::int64_t r = 0; r < call.rows; ++r) {
    const std::int64_t base = r * call.cols;
    for (std::int64_t c = 0; c < call.cols; ++c) {
      const T g = gy[base + c] * fn::activation_grad_from_output(call.act, y[base + c]);
      gz[base + c] = g;
      if (gb) column_sums[static_cast<std::size_t>(c)] += g;
    }
  }
  for (std::size_t c = 0; c < column_sums.size(); ++c) gb[c] = static_cast<T>(column_sums[c]);
}

}  // namespace

void bias_activation(int, const BiasActivationCall& call) {
  NUDGE_CHECK(call.dtype != DType::Int64, "linear: int64 is not supported");
  visit_dtype(call.dtype, [&](auto tag) {
    if constexpr (!std::is_same_v<decltype(tag), std::int64_t>) bias_activation_impl<decltype(tag)>(call);
  });
}

void activation_backward(int, const ActivationBackwardCall& call) {
  NUDGE_CHECK(call.dtype != DType::Int64, "linear backward: int64 is not supported");
  visit_dtype(call.dtype, [&](auto tag) {
    if constexpr (!std::is_same_v<decltype(tag), std::int64_t>) activation_backward_impl<decltype(tag)>(call);
  });
}

}  // namespace nudge::cpu

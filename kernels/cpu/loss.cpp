// Fused losses on the CPU: one pass computes every loss term, its gradient and the reduction.
// Sums are kept in double, so a float32 mean over millions of elements stays accurate.
#include <algorithm>
#include <cmath>

#include "kernels/cpu/kernels.h"
#include "kernels/functors.h"

namespace nudge::cpu {

namespace {

template <class T>
void pointwise_loss_impl(const LossCall& call) {
  const T* x = static_cast<const T*>(call.input);
  const T* t = static_cast<const T*>(call.target);
  T* loss = static_cast<T*>(call.loss);
  T* grad = static_cast<T*>(call.grad);
  const T scale = static_cast<T>(fn::loss_grad_scale(call));
  const std::int64_t n = call.rows * call.cols;
  double total = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const fn::LossTerm<T> term = fn::pointwise_loss(call.kind, x[i], t[i]);
    if (call.reduction == Reduction::None) loss[i] = term.value;
    else total += term.value;
    if (grad) grad[i] = term.grad * scale;
  }
  if (call.reduction != Reduction::None) loss[0] = static_cast<T>(call.reduction == Reduction::Mean ? total / n : total);
}

template <class T>
void cross_entropy_impl(const LossCall& call) {
  const T* logits = static_cast<const T*>(call.input);
  const auto* target = static_cast<const std::int64_t*>(call.target);
  T* loss = static_cast<T*>(call.loss);
  T* grad = static_cast<T*>(call.grad);
  const T scale = static_cast<T>(fn::loss_grad_scale(call));
  const std::int64_t classes = call.cols;
  double total = 0;
  for (std::int64_t r = 0; r < call.rows; ++r) {
    const std::int64_t k = target[r];
    NUDGE_CHECK(k >= 0 && k < classes, "cross_entropy: target ", r, " is class ", k, ", outside [0, ", classes, ")");
    const T* x = logits + r * classes;
    const T max = *std::max_element(x, x + classes);
    T sum_exp = 0;
    for (std::int64_t c = 0; c < classes; ++c) sum_exp += fn::exp_(x[c] - max);
    const T row_loss = max + fn::log_(sum_exp) - x[k];
    if (call.reduction == Reduction::None) loss[r] = row_loss;
    else total += row_loss;
    if (grad) {
      T* g = grad + r * classes;
      for (std::int64_t c = 0; c < classes; ++c) g[c] = (fn::exp_(x[c] - max) / sum_exp - T(c == k ? 1 : 0)) * scale;
    }
  }
  if (call.reduction != Reduction::None)
    loss[0] = static_cast<T>(call.reduction == Reduction::Mean ? total / call.rows : total);
}

}  // namespace

void loss(int, const LossCall& call) {
  NUDGE_CHECK(call.dtype != DType::Int64, "loss: int64 is not supported");
  visit_dtype(call.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, std::int64_t>) {
      if (call.kind == LossKind::CrossEntropy) cross_entropy_impl<T>(call);
      else pointwise_loss_impl<T>(call);
    }
  });
}

}  // namespace nudge::cpu

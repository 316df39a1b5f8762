// Fused losses on the CPU: one pass computes every loss term, its gradient and the reduction.
// Sums are kept in double, so a float32 mean over millions of elements stays accurate.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/vector_math.h"
#include "kernels/functors.h"

namespace nudge::kernels::cpu {

namespace {

/// The loss kind is a template argument so that its branch is resolved at compile time and the
/// loop vectorises; the sum runs in kLanes independent double accumulators for the same reason.
template <class T, LossKind kKind> void pointwise_loss_impl(const LossCall& call) {
  constexpr int kLanes = 8;
  const T* __restrict x = static_cast<const T*>(call.input);
  const T* __restrict t = static_cast<const T*>(call.target);
  T* __restrict loss = static_cast<T*>(call.loss);
  T* __restrict grad = static_cast<T*>(call.grad);
  const T scale = static_cast<T>(fn::loss_grad_scale(call));
  const std::int64_t n = call.rows * call.cols;
  const bool per_element = call.reduction == Reduction::None;
  double lanes[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) {
      const fn::LossTerm<T> term = fn::pointwise_loss(kKind, x[i + j], t[i + j]);
      lanes[j] += term.value;
      if (per_element) loss[i + j] = term.value;
      if (grad) grad[i + j] = term.grad * scale;
    }
  }
  for (; i < n; ++i) {
    const fn::LossTerm<T> term = fn::pointwise_loss(kKind, x[i], t[i]);
    lanes[0] += term.value;
    if (per_element) loss[i] = term.value;
    if (grad) grad[i] = term.grad * scale;
  }
  double total = 0;
  for (const double lane : lanes) total += lane;
  if (!per_element) loss[0] = static_cast<T>(call.reduction == Reduction::Mean ? total / n : total);
}

/// e[c] = exp(x[c] − max) for one row (e may be x's own row), through the vectorised exp
/// (vector_math.h, SLEEF) when this CPU has one: the exponentials are most of the loss's work.
template <class T> void shifted_exp(const T* x, T max, T* e, std::int64_t n) {
  for (std::int64_t c = 0; c < n; ++c) e[c] = x[c] - max;
  if (!vector_math::unary(UnaryOp::Exp, dtype_of<T>(), e, e, n))
    for (std::int64_t c = 0; c < n; ++c) e[c] = fn::exp_(e[c]);
}

/// The largest of x[0..n), n > 0, in kLanes independent maxima so that the loop vectorises (a
/// single running maximum is one long dependency chain). NaNs are skipped; they reach the loss
/// anyway through exp(NaN − max).
template <class T> T row_max(const T* x, std::int64_t n) {
  constexpr int kLanes = 8;
  T lanes[kLanes];
  for (T& lane : lanes) lane = x[0];
  std::int64_t c = 0;
  for (; c + kLanes <= n; c += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] = x[c + l] > lanes[l] ? x[c + l] : lanes[l];
  for (; c < n; ++c) lanes[0] = x[c] > lanes[0] ? x[c] : lanes[0];
  T max = lanes[0];
  for (const T lane : lanes) max = lane > max ? lane : max;
  return max;
}

template <class T> void cross_entropy_impl(const LossCall& call) {
  const T* logits = static_cast<const T*>(call.input);
  const auto* target = static_cast<const std::int64_t*>(call.target);
  T* loss = static_cast<T*>(call.loss);
  T* grad = static_cast<T*>(call.grad);
  const T scale = static_cast<T>(fn::loss_grad_scale(call));
  const std::int64_t classes = call.cols;
  double total = 0;
  std::int64_t counted = 0;
  std::vector<T> scratch(grad ? 0 : static_cast<std::size_t>(classes));  // the exponentials, without a gradient
  for (std::int64_t r = 0; r < call.rows; ++r) {
    const std::int64_t k = target[r];
    T* g = grad ? grad + r * classes : nullptr;
    if (k == call.ignore_index) {
      if (call.reduction == Reduction::None) loss[r] = 0;
      if (g) std::fill(g, g + classes, T(0));
      continue;
    }
    NUDGE_CHECK(k >= 0 && k < classes, "cross_entropy: target ", r, " is class ", k, ", outside [0, ", classes,
                ") (and not ignore_index ", call.ignore_index, ")");
    const T* x = logits + r * classes;
    const T max = row_max(x, classes);
    // With a gradient, the exponentials are kept in it and normalised in place: one exp each.
    T* e = g ? g : scratch.data();
    shifted_exp(x, max, e, classes);
    T sum_exp = 0;
    for (std::int64_t c = 0; c < classes; ++c) sum_exp += e[c];
    const T row_loss = fn::cross_entropy_row(max, sum_exp, x[k]);
    ++counted;
    if (call.reduction == Reduction::None) loss[r] = row_loss;
    else total += row_loss;
    if (g) {  // (e / Σ − [c = k]) · scale, the target's element apart so that the loop vectorises
      const T target_e = g[k];
      for (std::int64_t c = 0; c < classes; ++c) g[c] = g[c] / sum_exp * scale;
      g[k] = (target_e / sum_exp - T(1)) * scale;
    }
  }
  if (call.reduction != Reduction::None)
    loss[0] = static_cast<T>(call.reduction == Reduction::Mean ? total / static_cast<double>(counted) : total);
  if (call.grad_rescale)
    *static_cast<T*>(call.grad_rescale) = counted == 0 ? T(0) : static_cast<T>(double(call.rows) / double(counted));
}

}  // namespace

void loss(int, const LossCall& call) {
  visit_float_dtype(call.dtype, "loss", [&](auto tag) {
    using T = decltype(tag);
    switch (call.kind) {
      case LossKind::CrossEntropy: return cross_entropy_impl<T>(call);
      case LossKind::MSE: return pointwise_loss_impl<T, LossKind::MSE>(call);
      case LossKind::BCEWithLogits: return pointwise_loss_impl<T, LossKind::BCEWithLogits>(call);
    }
  });
}

}  // namespace nudge::kernels::cpu

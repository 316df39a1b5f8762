// CPU gather / scatter-add along a dim, and the elementwise select `where`.
#include "kernels/cpu/kernels.h"
#include "kernels/strided_index.h"

namespace nudge::kernels::cpu {

namespace {

/// Calls f(offsets) for every element of `loop`, row by row of the innermost dim.
template <int N, class F> void for_each_element(const StridedLoop<N>& loop, F f) {
  if (loop.ndim == 0) {  // one element (every dim had size 1)
    const std::int64_t off[N] = {};
    f(off);
    return;
  }
  const std::int64_t inner = loop.sizes[loop.ndim - 1];
  for (std::int64_t row = 0; row < loop.numel; row += inner) {
    std::int64_t base[N];
    strided_offsets(loop, row, base);
    for (std::int64_t j = 0; j < inner; ++j) {
      std::int64_t off[N];
      for (int k = 0; k < N; ++k) off[k] = base[k] + j * loop.strides[k][loop.ndim - 1];
      f(off);
    }
  }
}

}  // namespace

void index(int, const IndexCall& call) {
  if (call.loop.numel == 0) return;
  const std::int64_t* idx = operand<const std::int64_t>(call.loop, 1);
  if (call.op == IndexOp::Gather) {
    visit_dtype(call.dtype, [&](auto tag) {  // a gather moves elements: bool included
      using T = decltype(tag);
      T* out = operand<T>(call.loop, 0);
      const T* self = operand<const T>(call.loop, 2);
      for_each_element(
          call.loop, [&](const std::int64_t(&off)[3]) { out[off[0]] = self[off[2] + idx[off[1]] * call.dim_stride]; });
    });
    return;
  }
  visit_numeric_dtype(call.dtype, "scatter_add", [&](auto tag) {
    using T = decltype(tag);
    T* target = operand<T>(call.loop, 0);
    const T* src = operand<const T>(call.loop, 2);
    for_each_element(call.loop, [&](const std::int64_t(&off)[3]) {
      T& slot = target[off[0] + idx[off[1]] * call.dim_stride];
      slot = fn::add_(slot, src[off[2]]);
    });
  });
}

void where(int, const WhereCall& call) {
  if (call.loop.numel == 0) return;
  visit_dtype(call.dtype, [&](auto tag) {
    using T = decltype(tag);
    visit_dtype(call.cond_dtype, [&](auto cond_tag) {
      using C = decltype(cond_tag);
      T* out = operand<T>(call.loop, 0);
      const C* cond = operand<const C>(call.loop, 1);
      const T* a = operand<const T>(call.loop, 2);
      const T* b = operand<const T>(call.loop, 3);
      for_each_element(
          call.loop, [&](const std::int64_t(&off)[4]) { out[off[0]] = cond[off[1]] != C(0) ? a[off[2]] : b[off[3]]; });
    });
  });
}

}  // namespace nudge::kernels::cpu

#pragma once
/// Host loops over a StridedLoop: a flat loop when contiguous (the compiler vectorises it; large
/// ones are split over the thread pool, kernels/cpu/parallel.h), otherwise rows of the innermost
/// dim with per-row offsets.
#include "kernels/cpu/parallel.h"
#include "kernels/strided_index.h"

namespace nudge::kernels::cpu {

/// out[i] = f(in[i]) with element types Out and In.
template <class Out, class In, class F> void map_unary(const StridedLoop<2>& loop, F f) {
  Out* out = kernels::operand<Out>(loop, 0);
  const In* in = kernels::operand<const In>(loop, 1);
  if (loop.contiguous) {
    parallel_for(loop.numel, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i) out[i] = f(in[i]);
    });
    return;
  }
  const std::int64_t inner = loop.sizes[loop.ndim - 1];
  const std::int64_t so = loop.strides[0][loop.ndim - 1], si = loop.strides[1][loop.ndim - 1];
  for (std::int64_t row = 0; row < loop.numel; row += inner) {
    std::int64_t off[2];
    kernels::strided_offsets(loop, row, off);
    for (std::int64_t j = 0; j < inner; ++j) out[off[0] + j * so] = f(in[off[1] + j * si]);
  }
}

/// out[i] = f(a[i], b[i]) with operands of type T and results of type Out.
template <class T, class F, class Out = T> void map_binary(const StridedLoop<3>& loop, F f) {
  Out* out = kernels::operand<Out>(loop, 0);
  const T* a = kernels::operand<const T>(loop, 1);
  const T* b = kernels::operand<const T>(loop, 2);
  if (loop.contiguous) {
    parallel_for(loop.numel, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i) out[i] = f(a[i], b[i]);
    });
    return;
  }
  const std::int64_t inner = loop.sizes[loop.ndim - 1];
  const std::int64_t so = loop.strides[0][loop.ndim - 1], sa = loop.strides[1][loop.ndim - 1],
                     sb = loop.strides[2][loop.ndim - 1];
  for (std::int64_t row = 0; row < loop.numel; row += inner) {
    std::int64_t off[3];
    kernels::strided_offsets(loop, row, off);
    for (std::int64_t j = 0; j < inner; ++j) out[off[0] + j * so] = f(a[off[1] + j * sa], b[off[2] + j * sb]);
  }
}

/// out[i] = value.
template <class T> void fill_values(const StridedLoop<1>& loop, T value) {
  T* out = kernels::operand<T>(loop, 0);
  if (loop.contiguous) {
    parallel_for(loop.numel, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i) out[i] = value;
    });
    return;
  }
  const std::int64_t inner = loop.sizes[loop.ndim - 1], so = loop.strides[0][loop.ndim - 1];
  for (std::int64_t row = 0; row < loop.numel; row += inner) {
    std::int64_t off[1];
    kernels::strided_offsets(loop, row, off);
    for (std::int64_t j = 0; j < inner; ++j) out[off[0] + j * so] = value;
  }
}

}  // namespace nudge::kernels::cpu

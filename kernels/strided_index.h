#pragma once
/// Linear index -> per-operand element offsets for a StridedLoop, on host and device.
#include "kernels/calls.h"
#include "kernels/functors.h"

namespace nudge::kernels {

template <int N>
NUDGE_HD void strided_offsets(const StridedLoop<N>& loop, std::int64_t linear, std::int64_t (&offsets)[N]) {
  for (int k = 0; k < N; ++k) offsets[k] = 0;
  for (int d = loop.ndim - 1; d >= 0; --d) {
    const std::int64_t size = loop.sizes[d];
    const std::int64_t i = linear % size;
    linear /= size;
    for (int k = 0; k < N; ++k) offsets[k] += i * loop.strides[k][d];
  }
}

template <class T, int N> NUDGE_HD T* operand(const StridedLoop<N>& loop, int k) {
  return static_cast<T*>(loop.data[k]);
}

}  // namespace nudge::kernels

#pragma once
/// Linear index -> per-operand element offsets for a StridedLoop, on host and device.
#include "kernels/calls.h"
#include "kernels/functors.h"

namespace nudge::kernels {

/// Every size and linear index of a loop of at most 2^32 − 1 elements fits 32 bits, and a GPU
/// divides 32-bit integers several times faster than 64-bit ones (one div and one mod per dim per
/// element): such loops (all but the huge) take the 32-bit path. The branch is the same for every
/// thread of a launch. Offsets are accumulated in 64 bits either way.
template <int N>
NUDGE_HD void strided_offsets(const StridedLoop<N>& loop, std::int64_t linear, std::int64_t (&offsets)[N]) {
  for (int k = 0; k < N; ++k) offsets[k] = 0;
  if (loop.numel <= std::int64_t{0xffffffff}) {
    auto rest = static_cast<std::uint32_t>(linear);
    for (int d = loop.ndim - 1; d >= 0; --d) {
      const auto size = static_cast<std::uint32_t>(loop.sizes[d]);
      const std::uint32_t i = rest % size;
      rest /= size;
      for (int k = 0; k < N; ++k) offsets[k] += std::int64_t{i} * loop.strides[k][d];
    }
    return;
  }
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

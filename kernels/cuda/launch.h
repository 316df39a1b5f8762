#pragma once
/// Launch configuration shared by the .cu files.
#include <algorithm>
#include <cstdint>

#include "kernels/cuda/context.h"

namespace nudge::kernels::cuda {

inline constexpr int kBlockThreads = 256;

/// Blocks for a grid-stride loop over `work` items: enough to fill every SM (8 resident blocks
/// of 256 threads each), never more than the work needs.
inline unsigned grid_for(std::int64_t work, const DeviceContext& ctx) {
  const std::int64_t needed = (work + kBlockThreads - 1) / kBlockThreads;
  return static_cast<unsigned>(
      std::max<std::int64_t>(1, std::min<std::int64_t>(needed, std::int64_t{ctx.sm_count} * 8)));
}

/// 128-bit vector of T for vectorised loads and stores.
template <class T, int V> struct alignas(sizeof(T) * V) Vec { T v[V]; };

inline bool aligned_to(const void* p, std::size_t bytes) { return reinterpret_cast<std::uintptr_t>(p) % bytes == 0; }

}  // namespace nudge::kernels::cuda

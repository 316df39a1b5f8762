#pragma once
/// The warp and block reductions every CUDA reduction shares (reduce.cu, loss.cu, fused.cu):
/// written once, parameterised by the combining function, so a sum, a max and the (value, index)
/// pairs of argmax all go through the same shuffles.
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/launch.h"
#include "kernels/functors.h"

namespace nudge::kernels::cuda {

/// __shfl_down_sync / __shfl_xor_sync for every type a reduction carries.
template <class T> __device__ T shuffle_down(T v, int delta, int width) {
  if constexpr (std::is_integral_v<T> && sizeof(T) == 8)
    return static_cast<T>(__shfl_down_sync(0xffffffffu, static_cast<long long>(v), delta, width));
  else return __shfl_down_sync(0xffffffffu, v, delta, width);
}
template <class A> __device__ fn::Acc<A> shuffle_down(fn::Acc<A> v, int delta, int width) {
  return {shuffle_down(v.value, delta, width), shuffle_down(v.index, delta, width)};
}

/// Reduces within groups of `width` lanes (a power of two ≤ 32); the result is valid in each
/// group's first lane. Every lane of the warp must call it.
template <class T, class Combine> __device__ T warp_reduce(T v, Combine combine, int width = 32) {
  for (int delta = width / 2; delta > 0; delta /= 2) v = combine(v, shuffle_down(v, delta, width));
  return v;
}

/// Reduces within groups of `width` lanes (a power of two ≤ 32) with every lane of a group
/// receiving its group's result (butterfly). Every lane of the warp must call it.
template <class T, class Combine> __device__ T warp_allreduce(T v, Combine combine, int width = 32) {
  for (int delta = width / 2; delta > 0; delta /= 2) v = combine(v, __shfl_xor_sync(0xffffffffu, v, delta, width));
  return v;
}

/// Reduces one value per thread of a kBlockThreads-thread block; the result is valid in thread 0.
/// Safe to call repeatedly (in a loop, or twice in a row).
template <class T, class Combine> __device__ T block_reduce(T v, Combine combine, T identity) {
  __shared__ T warp_results[kBlockThreads / 32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_reduce(v, combine);
  if (lane == 0) warp_results[warp] = v;
  __syncthreads();
  if (warp == 0) v = warp_reduce(lane < static_cast<int>(blockDim.x / 32) ? warp_results[lane] : identity, combine);
  __syncthreads();  // warp_results may be reused by the next call
  return v;
}

/// block_reduce with every thread receiving the result. Safe to call repeatedly.
template <class T, class Combine> __device__ T block_allreduce(T v, Combine combine, T identity) {
  __shared__ T result;
  v = block_reduce(v, combine, identity);
  if (threadIdx.x == 0) result = v;
  __syncthreads();
  v = result;
  __syncthreads();  // `result` may be rewritten by the next call
  return v;
}

/// The "last block finishes" step of a single-launch grid reduction. Called by one thread of each
/// block after it wrote its partials (every lane that wrote must have reached here): publishes
/// them, counts the block in, and says whether this block is the last to arrive (which then adds
/// the partials in order and resets the counter to 0 for the next launch).
__device__ inline bool arrive_last(unsigned* counter, unsigned blocks) {
  __threadfence();
  return atomicAdd(counter, 1u) == blocks - 1;
}

}  // namespace nudge::kernels::cuda

// CUDA gather / scatter-add along a dim (grid-stride, 64-bit offsets; scatter-add with atomics, so
// float sums into one slot land in any order, as in PyTorch), and the elementwise select `where`.
#include "kernels/cuda/check.h"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/launch.h"
#include "kernels/strided_index.h"

namespace nudge::kernels::cuda {

namespace {

template <class T> __device__ void atomic_add(T* address, T value) {
  if constexpr (std::is_same_v<T, std::int64_t>) {
    // Two's complement: unsigned addition wraps exactly as the CPU's add_ does.
    atomicAdd(reinterpret_cast<unsigned long long*>(address), static_cast<unsigned long long>(value));
  } else {
    atomicAdd(address, value);
  }
}

template <class T> __global__ void gather_kernel(StridedLoop<3> loop, std::int64_t dim_stride) {
  const std::int64_t stride = std::int64_t{gridDim.x} * blockDim.x;
  for (std::int64_t i = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < loop.numel; i += stride) {
    std::int64_t off[3];
    strided_offsets(loop, i, off);
    const std::int64_t k = operand<const std::int64_t>(loop, 1)[off[1]];
    operand<T>(loop, 0)[off[0]] = operand<const T>(loop, 2)[off[2] + k * dim_stride];
  }
}

template <class T> __global__ void scatter_add_kernel(StridedLoop<3> loop, std::int64_t dim_stride) {
  const std::int64_t stride = std::int64_t{gridDim.x} * blockDim.x;
  for (std::int64_t i = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < loop.numel; i += stride) {
    std::int64_t off[3];
    strided_offsets(loop, i, off);
    const std::int64_t k = operand<const std::int64_t>(loop, 1)[off[1]];
    atomic_add(operand<T>(loop, 0) + off[0] + k * dim_stride, operand<const T>(loop, 2)[off[2]]);
  }
}

template <class T, class C> __global__ void where_kernel(StridedLoop<4> loop) {
  const std::int64_t stride = std::int64_t{gridDim.x} * blockDim.x;
  for (std::int64_t i = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < loop.numel; i += stride) {
    std::int64_t off[4];
    strided_offsets(loop, i, off);
    operand<T>(loop, 0)[off[0]] = operand<const C>(loop, 1)[off[1]] != C(0) ? operand<const T>(loop, 2)[off[2]]
                                                                            : operand<const T>(loop, 3)[off[3]];
  }
}

}  // namespace

void index(int device, const IndexCall& call) {
  if (call.loop.numel == 0) return;
  DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  const unsigned grid = grid_for(call.loop.numel, ctx);
  if (call.op == IndexOp::Gather) {
    visit_dtype(call.dtype, [&](auto tag) {  // a gather moves elements: bool included
      gather_kernel<decltype(tag)><<<grid, kBlockThreads, 0, ctx.stream>>>(call.loop, call.dim_stride);
    });
  } else {
    visit_numeric_dtype(call.dtype, "scatter_add", [&](auto tag) {
      scatter_add_kernel<decltype(tag)><<<grid, kBlockThreads, 0, ctx.stream>>>(call.loop, call.dim_stride);
    });
  }
  NUDGE_CUDA_CHECK_LAUNCH();
}

void where(int device, const WhereCall& call) {
  if (call.loop.numel == 0) return;
  DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  visit_dtype(call.dtype, [&](auto tag) {
    visit_dtype(call.cond_dtype, [&](auto cond_tag) {
      where_kernel<decltype(tag), decltype(cond_tag)>
          <<<grid_for(call.loop.numel, ctx), kBlockThreads, 0, ctx.stream>>>(call.loop);
    });
  });
  NUDGE_CUDA_CHECK_LAUNCH();
}

}  // namespace nudge::kernels::cuda

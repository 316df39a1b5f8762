// CUDA sliding windows (im2col / col2im, kernels/calls.h WindowCall): one thread per written
// element, grid-stride with 64-bit indices; fold gathers (no atomics: deterministic sums).
#include "kernels/cuda/check.h"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/launch.h"
#include "kernels/window_index.h"

namespace nudge::kernels::cuda {

namespace {

template <class T> __global__ void unfold_kernel(WindowCall call, std::int64_t work) {
  const std::int64_t stride = std::int64_t{gridDim.x} * blockDim.x;
  for (std::int64_t i = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < work; i += stride)
    unfold_element<T>(call, i);
}

template <class T, class Acc> __global__ void fold_kernel(WindowCall call, std::int64_t work) {
  const std::int64_t stride = std::int64_t{gridDim.x} * blockDim.x;
  for (std::int64_t i = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < work; i += stride)
    fold_element<T, Acc>(call, i);
}

}  // namespace

void window(int device, const WindowCall& call) {
  const std::int64_t work = window_work(call);
  if (work == 0) return;
  DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  const unsigned grid = grid_for(work, ctx);
  if (call.fold) {
    visit_numeric_dtype(call.dtype, "fold", [&](auto tag) {
      using T = decltype(tag);
      using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
      fold_kernel<T, Acc><<<grid, kBlockThreads, 0, ctx.stream>>>(call, work);
    });
  } else {
    visit_numeric_dtype(call.dtype, "unfold", [&](auto tag) {
      unfold_kernel<decltype(tag)><<<grid, kBlockThreads, 0, ctx.stream>>>(call, work);
    });
  }
  NUDGE_CUDA_CHECK_LAUNCH();
}

}  // namespace nudge::kernels::cuda

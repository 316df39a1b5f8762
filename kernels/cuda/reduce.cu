// CUDA reductions over a dense [outer, reduce, inner] input with the reducers of
// kernels/functors.h.
//   inner == 1: rows are reduced by thread blocks (warp shuffles, then shared memory). A long row
//               with few rows is split over several blocks whose partials a second kernel combines,
//               so a full reduction of 2^28 elements still fills the GPU.
//   inner  > 1: one thread per output walks the reduced dim; neighbouring threads read
//               neighbouring addresses, so loads coalesce.
#include "kernels/cuda/check.h"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/launch.h"
#include "kernels/functors.h"

namespace nudge::cuda {

// ---- block reduction ------------------------------------------------------------------------------

template <class T>
__device__ T shuffle_down(T v, int delta) {
  if constexpr (sizeof(T) == 8 && !std::is_floating_point_v<T>)
    return static_cast<T>(__shfl_down_sync(0xffffffffu, static_cast<long long>(v), delta));
  else
    return __shfl_down_sync(0xffffffffu, v, delta);
}

template <class R>
__device__ typename R::A warp_reduce(typename R::A a, R r) {
  for (int delta = 16; delta > 0; delta /= 2) {
    typename R::A other{shuffle_down(a.value, delta), shuffle_down(a.index, delta)};
    a = r.combine(a, other);
  }
  return a;
}

/// Reduces one value per thread; the result is valid in thread 0.
template <class R>
__device__ typename R::A block_reduce(typename R::A a, R r) {
  __shared__ typename R::A warp_results[kBlockThreads / 32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  a = warp_reduce(a, r);
  if (lane == 0) warp_results[warp] = a;
  __syncthreads();
  if (warp == 0) {
    a = lane < static_cast<int>(blockDim.x / 32) ? warp_results[lane] : r.identity();
    a = warp_reduce(a, r);
  }
  return a;
}

// ---- kernels --------------------------------------------------------------------------------------

/// Block b reduces part (b % splits) of row (b / splits). With one split it writes the result;
/// otherwise it writes a partial for reduce_partials.
template <class T, class R>
__global__ void reduce_rows(const T* __restrict__ in, std::int64_t n, int splits, R r, typename R::A* partials,
                            T* out, std::int64_t* indices) {
  const std::int64_t row = blockIdx.x / splits, part = blockIdx.x % splits;
  const std::int64_t chunk = (n + splits - 1) / splits;
  const std::int64_t begin = part * chunk, end = begin + chunk < n ? begin + chunk : n;
  const T* p = in + row * n;
  typename R::A a = r.identity();
  for (std::int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) a = r.combine(a, {p[i], i});
  a = block_reduce(a, r);
  if (threadIdx.x != 0) return;
  if (splits > 1) {
    partials[blockIdx.x] = a;
    return;
  }
  out[row] = a.value;
  if (indices) indices[row] = a.index;
}

/// Block b combines the `splits` partials of row b.
template <class T, class R>
__global__ void reduce_partials(const typename R::A* __restrict__ partials, int splits, R r, T* out,
                                std::int64_t* indices) {
  typename R::A a = r.identity();
  for (int i = threadIdx.x; i < splits; i += blockDim.x) a = r.combine(a, partials[blockIdx.x * splits + i]);
  a = block_reduce(a, r);
  if (threadIdx.x != 0) return;
  out[blockIdx.x] = a.value;
  if (indices) indices[blockIdx.x] = a.index;
}

template <class T, class R>
__global__ void reduce_columns(const T* __restrict__ in, std::int64_t outer, std::int64_t n, std::int64_t inner, R r,
                               T* out, std::int64_t* indices) {
  const std::int64_t stride = std::int64_t{gridDim.x} * blockDim.x;
  for (std::int64_t k = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x; k < outer * inner; k += stride) {
    const std::int64_t o = k / inner, i = k % inner;
    const T* p = in + o * n * inner + i;
    typename R::A a = r.identity();
    for (std::int64_t j = 0; j < n; ++j) a = r.combine(a, {p[j * inner], j});
    out[k] = a.value;
    if (indices) indices[k] = a.index;
  }
}

// ---- launchers ------------------------------------------------------------------------------------

namespace {

constexpr int kMaxSplits = 1024;
constexpr std::int64_t kMinPerSplit = 4096;  // elements a block should own before splitting pays

template <class T, class R>
void launch_reduce(int device, const ReduceCall& call, R r) {
  DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  const T* in = static_cast<const T*>(call.in);
  T* out = static_cast<T*>(call.out);
  if (call.inner > 1) {
    reduce_columns<T><<<grid_for(call.outer * call.inner, ctx), kBlockThreads, 0, ctx.stream>>>(
        in, call.outer, call.reduce, call.inner, r, out, call.indices);
    NUDGE_CUDA_CHECK_LAUNCH();
    return;
  }
  // Enough blocks to fill the GPU (4 per SM), but each split at least kMinPerSplit long.
  const std::int64_t wanted = (std::int64_t{ctx.sm_count} * 4 + call.outer - 1) / call.outer;
  const std::int64_t useful = (call.reduce + kMinPerSplit - 1) / kMinPerSplit;
  const int splits = static_cast<int>(std::max<std::int64_t>(1, std::min({wanted, useful, std::int64_t{kMaxSplits}})));
  using A = typename R::A;
  A* partials = nullptr;
  if (splits > 1)
    NUDGE_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&partials), sizeof(A) * call.outer * splits, ctx.stream));
  reduce_rows<T><<<static_cast<unsigned>(call.outer * splits), kBlockThreads, 0, ctx.stream>>>(
      in, call.reduce, splits, r, partials, out, call.indices);
  NUDGE_CUDA_CHECK_LAUNCH();
  if (splits > 1) {
    reduce_partials<T><<<static_cast<unsigned>(call.outer), kBlockThreads, 0, ctx.stream>>>(partials, splits, r, out,
                                                                                             call.indices);
    NUDGE_CUDA_CHECK_LAUNCH();
    NUDGE_CUDA_CHECK(cudaFreeAsync(partials, ctx.stream));  // stream-ordered: freed after the kernel
  }
}

}  // namespace

void reduce(int device, const ReduceCall& call) {
  visit_dtype(call.dtype, [&](auto tag) {
    using T = decltype(tag);
    if (call.op == ReduceOp::Sum) launch_reduce<T>(device, call, fn::SumReducer<T>{});
    else launch_reduce<T>(device, call, fn::MaxReducer<T>{});
  });
}

}  // namespace nudge::cuda

// The fused Dense epilogue and prologue on CUDA.
//   bias_activation:      y = act(z + bias) in place, one grid-stride pass, 128-bit vectors when
//                         the row length and pointers allow.
//   activation_backward:  grad_z = grad_y ⊙ act'(y) and grad_bias = Σ_rows grad_z in ONE launch:
//                         blocks own 32-column tiles of a chunk of rows, reduce their column sums
//                         in shared memory, write per-chunk partials, and the last block of each
//                         tile to arrive (a counter per tile) adds the partials in chunk order —
//                         deterministic, no atomics on the sums themselves. Sums are kept in
//                         double whatever T is, as the CPU and CUDA's sum(x, 0) keep them.
//                         Without a bias gradient (bias-less Linear, the activation modules) it is
//                         a plain elementwise map: a grid-stride, vectorised 1-D kernel.
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/check.h"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/scratch.h"
#include "kernels/functors.h"

namespace nudge::kernels::cuda {

namespace {

template <int V, class T>
__global__ void bias_activation_kernel(std::int64_t rows, std::int64_t cols, T* __restrict__ y,
                                       const T* __restrict__ bias, T* __restrict__ z_out, ActivationSpec act) {
  // V divides cols, so a vector never straddles two rows.
  const std::int64_t nvec = rows * cols / V;
  const std::int64_t stride = std::int64_t{gridDim.x} * blockDim.x;
  for (std::int64_t i = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < nvec; i += stride) {
    Vec<T, V> v = reinterpret_cast<Vec<T, V>*>(y)[i];
    const std::int64_t col = (i * V) % cols;
#pragma unroll
    for (int j = 0; j < V; ++j) v.v[j] = bias ? v.v[j] + bias[col + j] : v.v[j];
    if (z_out) reinterpret_cast<Vec<T, V>*>(z_out)[i] = v;
#pragma unroll
    for (int j = 0; j < V; ++j) v.v[j] = fn::activate(act.kind, act, v.v[j]);
    reinterpret_cast<Vec<T, V>*>(y)[i] = v;
  }
}

constexpr int kTileCols = 32;  // one warp across the columns: coalesced rows
constexpr int kTileRows = 8;   // warps per block, striding down the rows

/// The accumulator of the bias gradient's column sums.
using BiasAcc = double;

/// grad_z = grad_y ⊙ act'(y) (z: the pre-activation, for the activations that need it) over n
/// dense elements, V per vector. grad_z may be grad_y (in place): no __restrict__.
template <int V, class T>
__global__ void activation_grad_kernel(std::int64_t n, const T* grad_y, const T* y, const T* z, T* grad_z,
                                       ActivationSpec act) {
  const std::int64_t stride = std::int64_t{gridDim.x} * blockDim.x;
  const std::int64_t first = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  const std::int64_t nvec = n / V;
  for (std::int64_t i = first; i < nvec; i += stride) {
    const Vec<T, V> g = reinterpret_cast<const Vec<T, V>*>(grad_y)[i];
    const Vec<T, V> out = reinterpret_cast<const Vec<T, V>*>(y)[i];
    Vec<T, V> pre{}, r;
    if (z) pre = reinterpret_cast<const Vec<T, V>*>(z)[i];
#pragma unroll
    for (int j = 0; j < V; ++j) r.v[j] = fn::activation_grad(act.kind, act, g.v[j], out.v[j], pre.v[j]);
    reinterpret_cast<Vec<T, V>*>(grad_z)[i] = r;
  }
  for (std::int64_t i = nvec * V + first; i < n; i += stride)
    grad_z[i] = fn::activation_grad(act.kind, act, grad_y[i], y[i], z ? z[i] : T(0));
}

template <class T>
__global__ void activation_backward_kernel(std::int64_t rows, std::int64_t cols, std::int64_t rows_per_chunk,
                                           const T* grad_y, const T* y, T* grad_z, T* __restrict__ grad_bias,
                                           BiasAcc* __restrict__ partials, unsigned* __restrict__ arrivals,
                                           ActivationSpec act, const T* z) {
  __shared__ BiasAcc sums[kTileRows][kTileCols];
  __shared__ bool last_block;
  const int tx = threadIdx.x, ty = threadIdx.y;
  const std::int64_t col = std::int64_t{blockIdx.x} * kTileCols + tx;
  const std::int64_t row_begin = std::int64_t{blockIdx.y} * rows_per_chunk;
  const std::int64_t row_end = min(rows, row_begin + rows_per_chunk);
  BiasAcc sum = 0;
  if (col < cols) {
    for (std::int64_t r = row_begin + ty; r < row_end; r += kTileRows) {
      const std::int64_t i = r * cols + col;
      const T g = fn::activation_grad(act.kind, act, grad_y[i], y[i], z ? z[i] : T(0));
      grad_z[i] = g;
      sum += g;
    }
  }
  sums[ty][tx] = sum;
  __syncthreads();
  if (ty != 0) return;
  for (int k = 1; k < kTileRows; ++k) sum += sums[k][tx];
  if (gridDim.y == 1) {
    if (col < cols) grad_bias[col] = static_cast<T>(sum);
    return;
  }
  if (col < cols) partials[std::int64_t{blockIdx.y} * cols + col] = sum;
  // Publish the partials, then count this block in; the last one of the tile adds them up.
  __threadfence();  // each lane publishes its own partial
  __syncwarp();     // ... before lane 0 counts the block in
  if (tx == 0) last_block = arrive_last(&arrivals[blockIdx.x], gridDim.y);
  __syncwarp();
  if (!last_block) return;
  __threadfence();
  if (col < cols) {
    BiasAcc total = 0;
    for (unsigned chunk = 0; chunk < gridDim.y; ++chunk) total += partials[std::int64_t{chunk} * cols + col];
    grad_bias[col] = static_cast<T>(total);
  }
  if (tx == 0) arrivals[blockIdx.x] = 0;  // ready for the next launch
}

template <class T> void bias_activation_typed(int device, const BiasActivationCall& call) {
  DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  T* y = static_cast<T*>(call.y);
  const T* bias = static_cast<const T*>(call.bias);
  T* z_out = static_cast<T*>(call.z_out);
  constexpr int kVec = 16 / sizeof(T);
  const bool vectorise = call.cols % kVec == 0 && aligned_to(y, 16) && (bias == nullptr || aligned_to(bias, 16)) &&
                         (z_out == nullptr || aligned_to(z_out, 16));
  const std::int64_t n = call.rows * call.cols;
  if (vectorise)
    bias_activation_kernel<kVec>
        <<<grid_for(n / kVec, ctx), kBlockThreads, 0, ctx.stream>>>(call.rows, call.cols, y, bias, z_out, call.act);
  else
    bias_activation_kernel<1>
        <<<grid_for(n, ctx), kBlockThreads, 0, ctx.stream>>>(call.rows, call.cols, y, bias, z_out, call.act);
  NUDGE_CUDA_CHECK_LAUNCH();
}

template <class T> void activation_grad_typed(int device, const ActivationBackwardCall& call) {
  const DeviceContext& ctx = context(device);
  const auto* grad_y = static_cast<const T*>(call.grad_y);
  const auto* y = static_cast<const T*>(call.y);
  const auto* z = static_cast<const T*>(call.z);
  auto* grad_z = static_cast<T*>(call.grad_z);
  const std::int64_t n = call.rows * call.cols;
  constexpr int kVec = 16 / sizeof(T);
  if (aligned_to(grad_y, 16) && aligned_to(y, 16) && aligned_to(grad_z, 16) && (z == nullptr || aligned_to(z, 16)))
    activation_grad_kernel<kVec, T>
        <<<grid_for(n / kVec, ctx), kBlockThreads, 0, ctx.stream>>>(n, grad_y, y, z, grad_z, call.act);
  else
    activation_grad_kernel<1, T><<<grid_for(n, ctx), kBlockThreads, 0, ctx.stream>>>(n, grad_y, y, z, grad_z, call.act);
  NUDGE_CUDA_CHECK_LAUNCH();
}

template <class T> void activation_backward_typed(int device, const ActivationBackwardCall& call) {
  if (call.rows == 0 || call.cols == 0) return;  // nothing to write (core fills an empty bias gradient)
  DeviceGuard guard(device);
  if (call.grad_bias == nullptr) return activation_grad_typed<T>(device, call);
  const DeviceContext& ctx = context(device);
  const std::int64_t tiles = (call.cols + kTileCols - 1) / kTileCols;
  NUDGE_CHECK(tiles < (std::int64_t{1} << 31), "linear backward: ", call.cols, " columns exceed the grid limit");
  // Row chunks until every SM has two blocks, each chunk at least 64 rows (gridDim.y ≤ 65535).
  // Summing a bias over chunks needs an arrival counter per tile: one chunk past that many tiles
  // (each tile then is a block of its own, which fills the GPU anyway).
  std::int64_t chunks = std::max<std::int64_t>(1, std::min((2 * ctx.sm_count + tiles - 1) / tiles, call.rows / 64));
  if (tiles > DeviceContext::kArrivalCounters) chunks = 1;
  chunks = std::min<std::int64_t>(chunks, 65535);
  const std::int64_t rows_per_chunk = (call.rows + chunks - 1) / chunks;
  const Scratch partials(device, chunks > 1 ? sizeof(BiasAcc) * chunks * call.cols : 0);
  const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(chunks)), block(kTileCols, kTileRows);
  activation_backward_kernel<T><<<grid, block, 0, ctx.stream>>>(
      call.rows, call.cols, rows_per_chunk, static_cast<const T*>(call.grad_y), static_cast<const T*>(call.y),
      static_cast<T*>(call.grad_z), static_cast<T*>(call.grad_bias), partials.as<BiasAcc>(), ctx.arrival_counters,
      call.act, static_cast<const T*>(call.z));
  NUDGE_CUDA_CHECK_LAUNCH();
}

}  // namespace

void bias_activation(int device, const BiasActivationCall& call) {
  visit_float_dtype(call.dtype, "linear", [&](auto tag) {
    using T = decltype(tag);
    bias_activation_typed<T>(device, call);
  });
}

void activation_backward(int device, const ActivationBackwardCall& call) {
  visit_float_dtype(call.dtype, "linear backward", [&](auto tag) {
    using T = decltype(tag);
    activation_backward_typed<T>(device, call);
  });
}

}  // namespace nudge::kernels::cuda

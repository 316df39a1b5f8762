// CUDA reductions over a dense [outer, reduce, inner] input with the reducers of
// kernels/functors.h. Three shapes of problem, three kernels:
//   inner == 1, short rows (≤ kShortRow): G lanes per row (G the power of two ≥ the row, ≤ 32),
//               so [2^21, 10] (argmax over class logits) keeps every lane busy.
//   inner == 1, long rows: a block per row (warp shuffles, then shared memory); few long rows are
//               split over several blocks whose partials a second kernel combines, so a full
//               reduction of 2^28 elements still fills the GPU.
//   inner  > 1 (sum over dim 0 of a matrix, a bias gradient): 32-column tiles × chunks of the
//               reduced dim, per-chunk partials combined in chunk order by a second kernel, so
//               [2^22, 4] uses the whole GPU rather than 4 threads.
// Every kernel loops over its work (grid-stride), so no shape exceeds a grid limit, and every
// order of combination is fixed: results are deterministic.
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/check.h"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/scratch.h"
#include "kernels/functors.h"

namespace nudge::kernels::cuda {

/// A reducer's combine as a device function object for block_reduce.cuh.
template <class R> struct Combine {
  R r;
  __device__ typename R::A operator()(typename R::A a, typename R::A b) const { return r.combine(a, b); }
};

// ---- kernels --------------------------------------------------------------------------------------

/// Groups of G lanes each reduce one row of n ≤ G·k elements (lane j takes j, j + G, ...).
template <int G, class T, class R>
__global__ void reduce_short_rows(const T* __restrict__ in, std::int64_t outer, std::int64_t n, R r, T* out,
                                  std::int64_t* indices) {
  constexpr int kGroupsPerBlock = kBlockThreads / G;
  const int lane = threadIdx.x % G;
  // The loop bound is uniform across the block, so every lane reaches every shuffle.
  for (std::int64_t base = std::int64_t{blockIdx.x} * kGroupsPerBlock; base < outer;
       base += std::int64_t{gridDim.x} * kGroupsPerBlock) {
    const std::int64_t row = base + threadIdx.x / G;
    typename R::A a = r.identity();
    if (row < outer)
      for (std::int64_t i = lane; i < n; i += G) a = r.combine(a, {in[row * n + i], i});
    a = warp_reduce(a, Combine<R>{r}, G);
    if (lane == 0 && row < outer) {
      out[row] = static_cast<T>(a.value);
      if (indices) indices[row] = a.index;
    }
  }
}

/// Work item b is part (b % splits) of row (b / splits). With one split it writes the result;
/// otherwise it writes a partial for reduce_partials.
template <class T, class R>
__global__ void reduce_rows(const T* __restrict__ in, std::int64_t outer, std::int64_t n, int splits, R r,
                            typename R::A* partials, T* out, std::int64_t* indices) {
  const std::int64_t chunk = (n + splits - 1) / splits;
  for (std::int64_t b = blockIdx.x; b < outer * splits; b += gridDim.x) {
    const std::int64_t row = b / splits, part = b % splits;
    const std::int64_t begin = part * chunk, end = begin + chunk < n ? begin + chunk : n;
    const T* p = in + row * n;
    typename R::A a = r.identity();
    for (std::int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) a = r.combine(a, {p[i], i});
    a = block_reduce(a, Combine<R>{r}, r.identity());
    if (threadIdx.x != 0) continue;
    if (splits > 1) {
      partials[b] = a;
    } else {
      out[row] = static_cast<T>(a.value);
      if (indices) indices[row] = a.index;
    }
  }
}

/// Output k combines partials[k * splits + (0 .. splits-1)], in order.
template <class T, class R>
__global__ void reduce_partials(const typename R::A* __restrict__ partials, std::int64_t outputs, int splits, R r,
                                T* out, std::int64_t* indices) {
  for (std::int64_t k = blockIdx.x; k < outputs; k += gridDim.x) {
    typename R::A a = r.identity();
    for (int i = threadIdx.x; i < splits; i += blockDim.x) a = r.combine(a, partials[k * splits + i]);
    a = block_reduce(a, Combine<R>{r}, r.identity());
    if (threadIdx.x != 0) continue;
    out[k] = static_cast<T>(a.value);
    if (indices) indices[k] = a.index;
  }
}

constexpr int kTileCols = 32;  // one warp across neighbouring columns: coalesced loads
constexpr int kTileRows = 8;   // warps per block, striding down the reduced dim

/// Block (x, y) reduces 32 columns of one outer slice over chunk y of the reduced dim. With one
/// chunk it writes the results; otherwise partial[(o·inner + i) · chunks + y] for reduce_partials.
template <class T, class R>
__global__ void reduce_columns(const T* __restrict__ in, std::int64_t outer, std::int64_t n, std::int64_t inner,
                               std::int64_t rows_per_chunk, R r, typename R::A* partials, T* out,
                               std::int64_t* indices) {
  __shared__ typename R::A tile[kTileRows][kTileCols];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const std::int64_t tiles = (inner + kTileCols - 1) / kTileCols;
  const std::int64_t begin = std::int64_t{blockIdx.y} * rows_per_chunk;
  const std::int64_t end = begin + rows_per_chunk < n ? begin + rows_per_chunk : n;
  for (std::int64_t bx = blockIdx.x; bx < outer * tiles; bx += gridDim.x) {
    const std::int64_t o = bx / tiles, i = (bx % tiles) * kTileCols + tx;
    typename R::A a = r.identity();
    if (i < inner) {
      const T* p = in + o * n * inner + i;
      for (std::int64_t j = begin + ty; j < end; j += kTileRows) a = r.combine(a, {p[j * inner], j});
    }
    tile[ty][tx] = a;
    __syncthreads();
    if (ty == 0 && i < inner) {
      for (int k = 1; k < kTileRows; ++k) a = r.combine(a, tile[k][tx]);
      const std::int64_t k_out = o * inner + i;
      if (gridDim.y > 1) {
        partials[k_out * gridDim.y + blockIdx.y] = a;
      } else {
        out[k_out] = static_cast<T>(a.value);
        if (indices) indices[k_out] = a.index;
      }
    }
    __syncthreads();  // the tile is rewritten by the next iteration
  }
}

/// Columns narrower than half a warp (sum(x, 0) of [N, 4]), where reduce_columns would leave all
/// but `inner` of each warp's 32 lanes idle: lane l takes column l % inner of every (32 / inner)-th
/// row, so a warp reads 32 consecutive elements. Block (x, y) reduces outer slice x over chunk y.
template <class T, class R>
__global__ void reduce_narrow_columns(const T* __restrict__ in, std::int64_t outer, std::int64_t n, int inner,
                                      std::int64_t rows_per_chunk, R r, typename R::A* partials, T* out,
                                      std::int64_t* indices) {
  __shared__ typename R::A tile[kTileRows][kTileCols];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int groups = kTileCols / inner, col = tx % inner, group = tx / inner;
  const std::int64_t begin = std::int64_t{blockIdx.y} * rows_per_chunk;
  const std::int64_t end = begin + rows_per_chunk < n ? begin + rows_per_chunk : n;
  for (std::int64_t o = blockIdx.x; o < outer; o += gridDim.x) {
    typename R::A a = r.identity();
    if (group < groups) {
      const T* p = in + o * n * inner + col;
      for (std::int64_t j = begin + std::int64_t{ty} * groups + group; j < end; j += std::int64_t{kTileRows} * groups)
        a = r.combine(a, {p[j * inner], j});
    }
    tile[ty][tx] = a;
    __syncthreads();
    if (ty == 0 && tx < inner) {
      typename R::A total = r.identity();
      for (int k = 0; k < kTileRows; ++k)
        for (int g = 0; g < groups; ++g) total = r.combine(total, tile[k][g * inner + tx]);
      const std::int64_t k_out = o * inner + tx;
      if (gridDim.y > 1) {
        partials[k_out * gridDim.y + blockIdx.y] = total;
      } else {
        out[k_out] = static_cast<T>(total.value);
        if (indices) indices[k_out] = total.index;
      }
    }
    __syncthreads();  // the tile is rewritten by the next iteration
  }
}

// ---- launchers ------------------------------------------------------------------------------------

namespace {

constexpr std::int64_t kShortRow = 256;  // rows up to this long go to groups of ≤ 32 lanes
constexpr int kMaxSplits = 1024;
constexpr std::int64_t kMinPerSplit = 4096;  // elements a block should own before splitting pays
constexpr std::int64_t kMinRowsPerChunk = 64;

/// Blocks for a grid-stride loop over `items` blocks of work: enough to fill the GPU.
unsigned blocks_for(std::int64_t items, const DeviceContext& ctx) {
  return static_cast<unsigned>(
      std::max<std::int64_t>(1, std::min<std::int64_t>(items, std::int64_t{ctx.sm_count} * 32)));
}

template <int G, class T, class R> void launch_short_rows(const DeviceContext& ctx, const ReduceCall& call, R r) {
  const std::int64_t blocks = (call.outer + kBlockThreads / G - 1) / (kBlockThreads / G);
  reduce_short_rows<G, T><<<blocks_for(blocks, ctx), kBlockThreads, 0, ctx.stream>>>(
      static_cast<const T*>(call.in), call.outer, call.reduce, r, static_cast<T*>(call.out), call.indices);
  NUDGE_CUDA_CHECK_LAUNCH();
}

template <class T, class R>
void launch_partials(const DeviceContext& ctx, const typename R::A* partials, std::int64_t outputs, int splits, R r,
                     const ReduceCall& call) {
  reduce_partials<T><<<blocks_for(outputs, ctx), kBlockThreads, 0, ctx.stream>>>(
      partials, outputs, splits, r, static_cast<T*>(call.out), call.indices);
  NUDGE_CUDA_CHECK_LAUNCH();
}

template <class T, class R> void launch_rows(int device, const DeviceContext& ctx, const ReduceCall& call, R r) {
  const std::int64_t n = call.reduce;
  if (n <= 1) return launch_short_rows<1, T>(ctx, call, r);
  if (n <= 2) return launch_short_rows<2, T>(ctx, call, r);
  if (n <= 4) return launch_short_rows<4, T>(ctx, call, r);
  if (n <= 8) return launch_short_rows<8, T>(ctx, call, r);
  if (n <= 16) return launch_short_rows<16, T>(ctx, call, r);
  if (n <= kShortRow) return launch_short_rows<32, T>(ctx, call, r);
  // Enough blocks to fill the GPU (4 per SM), but each split at least kMinPerSplit long.
  const std::int64_t wanted = (std::int64_t{ctx.sm_count} * 4 + call.outer - 1) / call.outer;
  const std::int64_t useful = (n + kMinPerSplit - 1) / kMinPerSplit;
  const int splits = static_cast<int>(std::max<std::int64_t>(1, std::min({wanted, useful, std::int64_t{kMaxSplits}})));
  using A = typename R::A;
  const Scratch partials(device, splits > 1 ? sizeof(A) * call.outer * splits : 0);
  reduce_rows<T><<<blocks_for(call.outer * splits, ctx), kBlockThreads, 0, ctx.stream>>>(
      static_cast<const T*>(call.in), call.outer, n, splits, r, partials.as<A>(), static_cast<T*>(call.out),
      call.indices);
  NUDGE_CUDA_CHECK_LAUNCH();
  if (splits > 1) launch_partials<T>(ctx, partials.as<A>(), call.outer, splits, r, call);
}

template <class T, class R> void launch_columns(int device, const DeviceContext& ctx, const ReduceCall& call, R r) {
  const std::int64_t tile_blocks = call.outer * ((call.inner + kTileCols - 1) / kTileCols);
  // Chunks of the reduced dim until the GPU has ~4 blocks per SM, each chunk ≥ kMinRowsPerChunk.
  const std::int64_t wanted = (std::int64_t{ctx.sm_count} * 4 + tile_blocks - 1) / tile_blocks;
  const std::int64_t useful = (call.reduce + kMinRowsPerChunk - 1) / kMinRowsPerChunk;
  const std::int64_t chunks = std::max<std::int64_t>(1, std::min({wanted, useful, std::int64_t{kMaxSplits}}));
  const std::int64_t rows_per_chunk = (call.reduce + chunks - 1) / chunks;
  using A = typename R::A;
  const std::int64_t outputs = call.outer * call.inner;
  const Scratch partials(device, chunks > 1 ? sizeof(A) * outputs * chunks : 0);
  const dim3 grid(blocks_for(tile_blocks, ctx), static_cast<unsigned>(chunks)), block(kTileCols, kTileRows);
  if (call.inner < kTileCols / 2)
    reduce_narrow_columns<T><<<grid, block, 0, ctx.stream>>>(static_cast<const T*>(call.in), call.outer, call.reduce,
                                                             static_cast<int>(call.inner), rows_per_chunk, r,
                                                             partials.as<A>(), static_cast<T*>(call.out), call.indices);
  else
    reduce_columns<T><<<grid, block, 0, ctx.stream>>>(static_cast<const T*>(call.in), call.outer, call.reduce,
                                                      call.inner, rows_per_chunk, r, partials.as<A>(),
                                                      static_cast<T*>(call.out), call.indices);
  NUDGE_CUDA_CHECK_LAUNCH();
  if (chunks > 1) launch_partials<T>(ctx, partials.as<A>(), outputs, static_cast<int>(chunks), r, call);
}

template <class T, class R> void launch_reduce(int device, const ReduceCall& call, R r) {
  if (call.outer * call.inner == 0) return;  // nothing to write (core checks this too)
  DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  if (call.inner > 1) launch_columns<T>(device, ctx, call, r);
  else launch_rows<T>(device, ctx, call, r);
}

}  // namespace

void reduce(int device, const ReduceCall& call) {
  visit_numeric_dtype(call.dtype, "reduction", [&](auto tag) {
    using T = decltype(tag);
    fn::visit_reducer<T>(call.op, [&](auto reducer) { launch_reduce<T>(device, call, reducer); });
  });
}

}  // namespace nudge::kernels::cuda

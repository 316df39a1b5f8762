// Fused losses on CUDA: ONE launch computes every loss term, its input gradient and the reduction
// to a single value.
//   pointwise (MSE, BCE-with-logits): grid-stride over 128-bit vectors, scalar tail;
//   cross-entropy: one warp per row (max, sum of exponentials and gradient by warp shuffles).
// Reduction: each block sums its terms (in double), writes one partial, and the last block to
// arrive adds the partials in block order: deterministic, no atomics on the sum itself.
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/check.h"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/launch.h"
#include "kernels/functors.h"

namespace nudge::kernels::cuda {

namespace {

// ---- reduction helpers ----------------------------------------------------------------------------

/// Sum over the block; the result is valid in thread 0.
__device__ double block_sum(double v) { return block_reduce(v, fn::Add{}, 0.0); }

/// Adds every block's `local` sum (and `count`) into out[0] in one launch: per-block partials, and
/// the last block to arrive sums them in block order. out[0] = total / counted with `by_count`
/// (cross-entropy's Mean over the rows that count), else total / divisor (the element count for
/// Mean, 1 for Sum: a division, as the CPU does, not a multiply by 1/n, which rounds differently);
/// `rescale` (may be null) gets rows / counted, or 0 when no row counted.
template <class T>
__device__ void reduce_to_scalar(double local, double count, double divisor, bool by_count, double rows, T* out,
                                 T* rescale, double* partials, unsigned* arrivals) {
  __shared__ bool last_block;
  const double block_total = block_sum(local);
  const double block_count = by_count ? block_sum(count) : 0.0;
  if (threadIdx.x == 0) {
    partials[blockIdx.x] = block_total;
    partials[DeviceContext::kReducePartials + blockIdx.x] = block_count;
    last_block = arrive_last(arrivals, gridDim.x);
  }
  __syncthreads();
  if (!last_block) return;
  __threadfence();
  double total = 0, counted = 0;
  for (unsigned b = threadIdx.x; b < gridDim.x; b += blockDim.x) {
    total += partials[b];
    counted += partials[DeviceContext::kReducePartials + b];
  }
  total = block_sum(total);
  counted = block_sum(counted);
  if (threadIdx.x == 0) {
    out[0] = static_cast<T>(by_count ? total / counted : total / divisor);
    if (rescale) *rescale = counted == 0 ? T(0) : static_cast<T>(rows / counted);
    *arrivals = 0;  // ready for the next launch
  }
}

// ---- kernels ----------------------------------------------------------------------------------------

/// Cross-entropy rows longer than this get a block each instead of a warp.
constexpr std::int64_t kWideRow = 2048;

template <int V, class T>
__global__ void pointwise_loss_kernel(LossCall c, T grad_scale, double mean_divisor, double* partials,
                                      unsigned* arrivals) {
  const T* __restrict__ x = static_cast<const T*>(c.input);
  const T* __restrict__ t = static_cast<const T*>(c.target);
  T* __restrict__ loss = static_cast<T*>(c.loss);
  T* __restrict__ grad = static_cast<T*>(c.grad);
  const bool per_element = c.reduction == Reduction::None;
  const std::int64_t n = c.rows * c.cols, nvec = n / V;
  const std::int64_t first = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  const std::int64_t stride = std::int64_t{gridDim.x} * blockDim.x;
  double local = 0;
  for (std::int64_t i = first; i < nvec; i += stride) {
    const Vec<T, V> xv = reinterpret_cast<const Vec<T, V>*>(x)[i], tv = reinterpret_cast<const Vec<T, V>*>(t)[i];
    Vec<T, V> values, grads;
#pragma unroll
    for (int j = 0; j < V; ++j) {
      const fn::LossTerm<T> term = fn::pointwise_loss(c.kind, xv.v[j], tv.v[j]);
      values.v[j] = term.value;
      grads.v[j] = term.grad * grad_scale;
      local += term.value;
    }
    if (per_element) reinterpret_cast<Vec<T, V>*>(loss)[i] = values;
    if (grad) reinterpret_cast<Vec<T, V>*>(grad)[i] = grads;
  }
  for (std::int64_t i = nvec * V + first; i < n; i += stride) {  // the tail a vector does not cover
    const fn::LossTerm<T> term = fn::pointwise_loss(c.kind, x[i], t[i]);
    if (per_element) loss[i] = term.value;
    if (grad) grad[i] = term.grad * grad_scale;
    local += term.value;
  }
  if (!per_element) reduce_to_scalar<T>(local, 0, mean_divisor, false, 0, loss, nullptr, partials, arrivals);
}

__device__ void report_bad_class(DeviceErrorReport* report, std::int64_t row, std::int64_t value, std::int64_t bound) {
  const auto clamped = static_cast<std::int32_t>(value < INT32_MIN ? INT32_MIN : value > INT32_MAX ? INT32_MAX : value);
  report->bound = bound;
  __threadfence_system();
  report->row_and_value = (static_cast<unsigned long long>(row + 1) << 32) | static_cast<std::uint32_t>(clamped);
}

/// Softmax cross-entropy with kLanes threads per row: a group of 2 to 32 lanes of a warp (rows of
/// up to kLanes classes, or up to kWideRow for 32: two classes no longer idle 30 lanes), or the
/// whole block (kLanes 0: wider rows, such as a language model's head, [8, 50257], which had 8
/// warps on the whole GPU with a warp per row). The row's threads share its max and sum of exps.
template <class T, int kLanes>
__global__ void cross_entropy_kernel(LossCall c, T grad_scale, double mean_divisor, double* partials,
                                     unsigned* arrivals, DeviceErrorReport* report) {
  const T* __restrict__ logits = static_cast<const T*>(c.input);
  const auto* __restrict__ target = static_cast<const std::int64_t*>(c.target);
  T* __restrict__ loss = static_cast<T*>(c.loss);
  T* __restrict__ grad = static_cast<T*>(c.grad);
  const std::int64_t classes = c.cols;
  constexpr bool kBlockPerRow = kLanes == 0;
  const int lanes = kBlockPerRow ? blockDim.x : kLanes;
  const int lane = threadIdx.x % lanes;
  const std::int64_t rows_per_block = blockDim.x / lanes;
  const auto allreduce = [](auto v, auto combine, auto identity) {
    if constexpr (kBlockPerRow) return block_allreduce(v, combine, identity);
    else return warp_allreduce(v, combine, kLanes);
  };
  double local = 0, counted = 0;
  for (std::int64_t row = blockIdx.x * rows_per_block + threadIdx.x / lanes; row < c.rows;
       row += std::int64_t{gridDim.x} * rows_per_block) {
    const T* x = logits + row * classes;
    // NaN wins, in each thread and across them (fmaxf would drop it): the CPU's rule.
    T max_logit = -std::numeric_limits<T>::infinity();
    for (std::int64_t k = lane; k < classes; k += lanes) max_logit = fn::Maximum{}(max_logit, x[k]);
    max_logit = allreduce(max_logit, fn::Maximum{}, -std::numeric_limits<T>::infinity());
    T part = 0;
    for (std::int64_t k = lane; k < classes; k += lanes) part += fn::exp_(x[k] - max_logit);
    const T sum_exp = static_cast<T>(allreduce(static_cast<double>(part), fn::Add{}, 0.0));
    const std::int64_t label = target[row];
    const bool ignored = label == c.ignore_index;
    const bool valid = !ignored && label >= 0 && label < classes;
    if (grad) {
      T* g = grad + row * classes;
      for (std::int64_t k = lane; k < classes; k += lanes)
        g[k] = ignored ? T(0)
               : valid ? (fn::exp_(x[k] - max_logit) / sum_exp - T(k == label ? 1 : 0)) * grad_scale
                       : std::numeric_limits<T>::quiet_NaN();
    }
    if (lane == 0) {
      if (!valid && !ignored) report_bad_class(report, row, label, classes);
      const T row_loss = ignored ? T(0)
                         : valid ? fn::cross_entropy_row(max_logit, sum_exp, x[label])
                                 : std::numeric_limits<T>::quiet_NaN();
      if (c.reduction == Reduction::None) loss[row] = row_loss;
      else local += row_loss;
      if (!ignored) counted += 1;
    }
  }
  if (c.reduction != Reduction::None)
    reduce_to_scalar<T>(local, counted, mean_divisor, c.reduction == Reduction::Mean, double(c.rows), loss,
                        static_cast<T*>(c.grad_rescale), partials, arrivals);
}

// ---- launchers ----------------------------------------------------------------------------------------

template <class T> void loss_typed(int device, const LossCall& c) {
  DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  const T grad_scale = static_cast<T>(fn::loss_grad_scale(c));
  const double mean_divisor = c.reduction == Reduction::Mean ? double(fn::loss_mean_count(c)) : 1.0;
  auto blocks = [&](std::int64_t work) {
    return std::min<unsigned>(grid_for(work, ctx), DeviceContext::kReducePartials);
  };
  if (c.kind == LossKind::CrossEntropy && c.cols > kWideRow) {
    cross_entropy_kernel<T, 0><<<blocks(c.rows * kBlockThreads), kBlockThreads, 0, ctx.stream>>>(
        c, grad_scale, mean_divisor, ctx.reduce_partials, ctx.arrival_counters, ctx.error_device);
  } else if (c.kind == LossKind::CrossEntropy) {
    // The smallest group of lanes that covers a row (a warp for all rows past 16 classes).
    const auto launch = [&](auto lanes) {
      cross_entropy_kernel<T, decltype(lanes)::value><<<blocks(c.rows * lanes), kBlockThreads, 0, ctx.stream>>>(
          c, grad_scale, mean_divisor, ctx.reduce_partials, ctx.arrival_counters, ctx.error_device);
    };
    if (c.cols <= 2) launch(std::integral_constant<int, 2>{});
    else if (c.cols <= 4) launch(std::integral_constant<int, 4>{});
    else if (c.cols <= 8) launch(std::integral_constant<int, 8>{});
    else if (c.cols <= 16) launch(std::integral_constant<int, 16>{});
    else launch(std::integral_constant<int, 32>{});
  } else {
    constexpr int kVec = 16 / sizeof(T);
    const bool vectorise = aligned_to(c.input, 16) && aligned_to(c.target, 16) &&
                           (c.grad == nullptr || aligned_to(c.grad, 16)) &&
                           (c.reduction != Reduction::None || aligned_to(c.loss, 16));
    const std::int64_t n = c.rows * c.cols;
    if (vectorise)
      pointwise_loss_kernel<kVec, T><<<blocks(n / kVec + 1), kBlockThreads, 0, ctx.stream>>>(
          c, grad_scale, mean_divisor, ctx.reduce_partials, ctx.arrival_counters);
    else
      pointwise_loss_kernel<1, T><<<blocks(n), kBlockThreads, 0, ctx.stream>>>(
          c, grad_scale, mean_divisor, ctx.reduce_partials, ctx.arrival_counters);
  }
  NUDGE_CUDA_CHECK_LAUNCH();
}

}  // namespace

void loss(int device, const LossCall& call) {
  visit_float_dtype(call.dtype, "loss", [&](auto tag) {
    using T = decltype(tag);
    loss_typed<T>(device, call);
  });
}

}  // namespace nudge::kernels::cuda

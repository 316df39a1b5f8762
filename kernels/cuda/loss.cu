// Fused losses on CUDA: ONE launch computes every loss term, its input gradient and the reduction
// to a single value.
//   pointwise (MSE, BCE-with-logits): grid-stride over 128-bit vectors, scalar tail;
//   cross-entropy: one warp per row (max, sum of exponentials and gradient by warp shuffles).
// Reduction: each block sums its terms (in double), writes one partial, and the last block to
// arrive adds the partials in block order: deterministic, no atomics on the sum itself.
#include <cstdint>

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

/// What one row of cross-entropy writes: its gradient (when asked), and its loss term through
/// `loss_term` (called by one thread). `max_logit` and `sum_exp` are the row's, known to every
/// thread that calls this; `first`/`step` stride the row's classes among those threads.
template <class T, class LossTerm>
__device__ void cross_entropy_row_out(const LossCall& c, const T* x, std::int64_t row, T max_logit, T sum_exp,
                                      T grad_scale, int first, int step, bool writes_loss, DeviceErrorReport* report,
                                      LossTerm loss_term) {
  const std::int64_t classes = c.cols;
  const std::int64_t label = static_cast<const std::int64_t*>(c.target)[row];
  const bool ignored = label == c.ignore_index;
  const bool valid = !ignored && label >= 0 && label < classes;
  if (T* grad = static_cast<T*>(c.grad)) {
    T* g = grad + row * classes;
    for (std::int64_t k = first; k < classes; k += step)
      g[k] = ignored ? T(0)
             : valid ? (fn::exp_(x[k] - max_logit) / sum_exp - T(k == label ? 1 : 0)) * grad_scale
                     : std::numeric_limits<T>::quiet_NaN();
  }
  if (writes_loss) {
    if (!valid && !ignored) report_bad_class(report, row, label, classes);
    loss_term(ignored ? T(0)
              : valid ? fn::cross_entropy_row(max_logit, sum_exp, x[label])
                      : std::numeric_limits<T>::quiet_NaN(),
              ignored);
  }
}

/// One warp per row: rows of up to kWideRow classes.
template <class T>
__global__ void cross_entropy_kernel(LossCall c, T grad_scale, double mean_divisor, double* partials,
                                     unsigned* arrivals, DeviceErrorReport* report) {
  const T* logits = static_cast<const T*>(c.input);
  T* loss = static_cast<T*>(c.loss);
  const std::int64_t classes = c.cols;
  const int lane = threadIdx.x % 32;
  const std::int64_t warps_per_block = blockDim.x / 32;
  double local = 0, counted = 0;
  for (std::int64_t row = blockIdx.x * warps_per_block + threadIdx.x / 32; row < c.rows;
       row += std::int64_t{gridDim.x} * warps_per_block) {
    const T* x = logits + row * classes;
    T max_logit = -std::numeric_limits<T>::infinity();
    // NaN wins, in each lane and across them (fmaxf would drop it): the CPU's rule.
    for (std::int64_t k = lane; k < classes; k += 32) max_logit = fn::Maximum{}(max_logit, x[k]);
    max_logit = warp_allreduce(max_logit, fn::Maximum{});
    T sum_exp = 0;
    for (std::int64_t k = lane; k < classes; k += 32) sum_exp += fn::exp_(x[k] - max_logit);
    sum_exp = static_cast<T>(warp_allreduce(static_cast<double>(sum_exp), fn::Add{}));
    cross_entropy_row_out(c, x, row, max_logit, sum_exp, grad_scale, lane, 32, lane == 0, report,
                          [&](T row_loss, bool ignored) {
                            if (c.reduction == Reduction::None) loss[row] = row_loss;
                            else local += row_loss;
                            if (!ignored) counted += 1;
                          });
  }
  if (c.reduction != Reduction::None)
    reduce_to_scalar<T>(local, counted, mean_divisor, c.reduction == Reduction::Mean, double(c.rows), loss,
                        static_cast<T*>(c.grad_rescale), partials, arrivals);
}

/// One block per row: rows wider than kWideRow classes (a language model's head, [8, 50257], had
/// 8 warps on the whole GPU with a warp per row).
template <class T>
__global__ void cross_entropy_wide_kernel(LossCall c, T grad_scale, double mean_divisor, double* partials,
                                          unsigned* arrivals, DeviceErrorReport* report) {
  const T* logits = static_cast<const T*>(c.input);
  T* loss = static_cast<T*>(c.loss);
  const std::int64_t classes = c.cols;
  const int tid = threadIdx.x, threads = blockDim.x;
  double local = 0, counted = 0;
  for (std::int64_t row = blockIdx.x; row < c.rows; row += gridDim.x) {
    const T* x = logits + row * classes;
    T max_logit = -std::numeric_limits<T>::infinity();
    for (std::int64_t k = tid; k < classes; k += threads) max_logit = fn::Maximum{}(max_logit, x[k]);
    max_logit = block_allreduce(max_logit, fn::Maximum{}, -std::numeric_limits<T>::infinity());
    T part = 0;
    for (std::int64_t k = tid; k < classes; k += threads) part += fn::exp_(x[k] - max_logit);
    const T sum_exp = static_cast<T>(block_allreduce(static_cast<double>(part), fn::Add{}, 0.0));
    cross_entropy_row_out(c, x, row, max_logit, sum_exp, grad_scale, tid, threads, tid == 0, report,
                          [&](T row_loss, bool ignored) {
                            if (c.reduction == Reduction::None) loss[row] = row_loss;
                            else local += row_loss;
                            if (!ignored) counted += 1;
                          });
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
    cross_entropy_wide_kernel<T><<<blocks(c.rows * kBlockThreads), kBlockThreads, 0, ctx.stream>>>(
        c, grad_scale, mean_divisor, ctx.reduce_partials, ctx.arrival_counters, ctx.error_device);
  } else if (c.kind == LossKind::CrossEntropy) {
    const unsigned grid = blocks(c.rows * 32);  // a warp per row
    cross_entropy_kernel<T><<<grid, kBlockThreads, 0, ctx.stream>>>(c, grad_scale, mean_divisor, ctx.reduce_partials,
                                                                    ctx.arrival_counters, ctx.error_device);
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

// Multi-tensor optimizer steps on CUDA: every parameter of a model updated by ONE launch. The
// launch carries a table of the parameters (pointers, sizes, per-parameter scalars) as a kernel
// argument; each block takes one chunk of one parameter, found by binary search over the chunk
// offsets. Kernel arguments may be up to 32 KB on Volta and later with CUDA ≥ 12.1, which fits
// kMaxSlots parameters; a model with more takes ⌈count / kMaxSlots⌉ launches.
#include <algorithm>

#include "kernels/cuda/check.h"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/launch.h"
#include "kernels/functors.h"

namespace nudge::kernels::cuda {

namespace {

constexpr int kMaxSlots = 200;
constexpr std::int64_t kChunk = 16 * kBlockThreads;  // elements per block

template <class Call> struct SlotTable {
  Call call;  // slots/count of the call itself are not used on the device
  int count;
  ParamSlot slots[kMaxSlots];
  std::int64_t first_chunk[kMaxSlots + 1];  // prefix sums of chunks per slot
};

template <class Call> __device__ int slot_of_block(const SlotTable<Call>& t, std::int64_t block) {
  int lo = 0, hi = t.count - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (t.first_chunk[mid] <= block) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/// Calls `update(call, slot, scalars, i)` for every element i of this block's chunk of its
/// parameter; the parameter's scalars (learning rate, bias corrections) are read from device
/// memory once per block.
template <class Call, class Update>
__global__ void __launch_bounds__(kBlockThreads)
    multi_tensor_kernel(const __grid_constant__ SlotTable<Call> t, Update update) {
  const int k = slot_of_block(t, blockIdx.x);
  const ParamSlot& s = t.slots[k];
  __shared__ fn::SlotScalars scalars;
  if (threadIdx.x == 0) scalars = Update::scalars(t.call, s);
  __syncthreads();
  const std::int64_t begin = (blockIdx.x - t.first_chunk[k]) * kChunk, end = min(s.numel, begin + kChunk);
  for (std::int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) update(t.call, s, scalars, i);
}

/// After every block of an Adam step has read its parameter's count: count ← count + 1. A
/// separate launch, because no block of the step knows when the others have read the count.
__global__ void advance_step_counts(const __grid_constant__ SlotTable<AdamStepCall> t) {
  for (int k = threadIdx.x; k < t.count; k += blockDim.x) *t.slots[k].step += 1;
}

template <class T> struct SgdElement {
  static constexpr bool kCountsSteps = false;
  __device__ static fn::SlotScalars scalars(const SgdStepCall& c, const ParamSlot& s) { return fn::sgd_scalars(c, s); }
  __device__ void operator()(const SgdStepCall& c, const ParamSlot& s, const fn::SlotScalars& k, std::int64_t i) const {
    T unused = 0;
    T* buf = static_cast<T*>(s.state1);
    fn::sgd_update(static_cast<T*>(s.param)[i], static_cast<const T*>(s.grad)[i], buf ? buf[i] : unused, c, s, k);
  }
};

template <class T> struct AdamElement {
  static constexpr bool kCountsSteps = true;
  __device__ static fn::SlotScalars scalars(const AdamStepCall& c, const ParamSlot& s) {
    return fn::adam_scalars(c, s);
  }
  __device__ void operator()(const AdamStepCall& c, const ParamSlot& s, const fn::SlotScalars& k,
                             std::int64_t i) const {
    fn::adam_update(static_cast<T*>(s.param)[i], static_cast<const T*>(s.grad)[i], static_cast<T*>(s.state1)[i],
                    static_cast<T*>(s.state2)[i], c, k);
  }
};

/// Launches multi_tensor_kernel over the call's slots, kMaxSlots at a time.
template <class Update, class Call> void launch_multi_tensor(int device, const Call& call) {
  DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  for (std::int64_t start = 0; start < call.count; start += kMaxSlots) {
    SlotTable<Call> table{};
    table.call = call;
    table.count = static_cast<int>(std::min<std::int64_t>(kMaxSlots, call.count - start));
    std::int64_t chunks = 0;
    for (int k = 0; k < table.count; ++k) {
      table.slots[k] = call.slots[start + k];
      table.first_chunk[k] = chunks;
      chunks += (table.slots[k].numel + kChunk - 1) / kChunk;
    }
    table.first_chunk[table.count] = chunks;
    if (chunks == 0) continue;
    NUDGE_CHECK(chunks < (std::int64_t{1} << 31), "optimizer step: ", chunks, " chunks exceed the grid limit");
    multi_tensor_kernel<<<static_cast<unsigned>(chunks), kBlockThreads, 0, ctx.stream>>>(table, Update{});
    NUDGE_CUDA_CHECK_LAUNCH();
    if constexpr (Update::kCountsSteps) {
      advance_step_counts<<<1, kBlockThreads, 0, ctx.stream>>>(table);
      NUDGE_CUDA_CHECK_LAUNCH();
    }
  }
}

}  // namespace

void sgd_step(int device, const SgdStepCall& call) {
  visit_float_dtype(call.dtype, "SGD", [&](auto tag) {
    using T = decltype(tag);
    launch_multi_tensor<SgdElement<T>>(device, call);
  });
}

void adam_step(int device, const AdamStepCall& call) {
  visit_float_dtype(call.dtype, "Adam", [&](auto tag) {
    using T = decltype(tag);
    launch_multi_tensor<AdamElement<T>>(device, call);
  });
}

}  // namespace nudge::kernels::cuda

// CUDA memory, copies and events. Memory comes from the device's stream-ordered pool
// (cudaMallocAsync) with the release threshold raised so freed blocks stay cached: steady-state
// training does no cudaMalloc/cudaFree. On failure the pool's cache is trimmed and the
// allocation retried once.
//
// Every device has one nudge stream (context.h). Whatever crosses streams is ordered with events,
// never with a host wait: a copy between two GPUs waits for the source's stream, and the source's
// stream waits for the copy before it may reuse (free) the source's memory.
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

#include "kernels/dispatch.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/graph_pool.h"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/scratch.h"

namespace nudge::kernels::cuda {

namespace {

int device_count(std::string* why_none) {
  static int count = -1;
  static std::string reason;
  static std::once_flag once;
  std::call_once(once, [] {
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
      count = 0;
      reason = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
      cudaGetLastError();  // clear the sticky-free error so later checks are not confused
    } else if (count == 0) {
      reason = "cudaGetDeviceCount found no devices";
    }
  });
  if (why_none) *why_none = reason;
  return count;
}

void keep_freed_memory_cached(int index) {
  static std::once_flag once[64];
  std::call_once(once[index], [index] {
    cudaMemPool_t pool;
    NUDGE_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, index));
    std::uint64_t threshold = UINT64_MAX;
    NUDGE_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold));
  });
}

/// `waiter`'s stream waits (on the device, not the host) for the work queued so far on `signaller`'s.
void stream_wait(int waiter, int signaller) {
  cudaEvent_t event = nullptr;
  cudaError_t err = cudaSuccess;
  {
    DeviceGuard guard(signaller);  // an event is recorded on a stream of its own device
    NUDGE_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
    err = cudaEventRecord(event, context(signaller).stream);
  }
  if (err == cudaSuccess) {
    DeviceGuard guard(waiter);
    err = cudaStreamWaitEvent(context(waiter).stream, event, 0);
  }
  NUDGE_CUDA_WARN(cudaEventDestroy(event), "stream_wait");  // released once the recorded work completes
  NUDGE_CUDA_CHECK(err);
}

/// Lets device `peer` read and write the stream-ordered pool of device `owner` where the hardware
/// allows it (pool memory is private to its device until told otherwise, whatever
/// cudaDeviceEnablePeerAccess says). Copies work either way; this makes them direct.
void share_pool_with_peer(int owner, int peer) {
  static std::mutex mutex;
  static bool done[64][64] = {};
  std::lock_guard lock(mutex);
  if (done[owner][peer]) return;
  done[owner][peer] = true;
  int can_access = 0;
  if (!NUDGE_CUDA_WARN(cudaDeviceCanAccessPeer(&can_access, peer, owner), "peer access") || !can_access) return;
  cudaMemPool_t pool;
  NUDGE_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, owner));
  cudaMemAccessDesc desc{};
  desc.location.type = cudaMemLocationTypeDevice;
  desc.location.id = peer;
  desc.flags = cudaMemAccessFlagsProtReadWrite;
  NUDGE_CUDA_CHECK(cudaMemPoolSetAccess(pool, &desc, 1));
}

void copy_between_devices(void* dst, int dst_index, const void* src, int src_index, std::size_t nbytes) {
  share_pool_with_peer(src_index, dst_index);
  share_pool_with_peer(dst_index, src_index);
  stream_wait(dst_index, src_index);  // the source is complete
  {
    DeviceGuard guard(dst_index);
    NUDGE_CUDA_CHECK(cudaMemcpyPeerAsync(dst, dst_index, src, src_index, nbytes, context(dst_index).stream));
  }
  stream_wait(src_index, dst_index);  // a later free of the source (on its stream) follows the copy
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, std::size_t nbytes) {
  const int index = dst_device.is_cuda() ? dst_device.index() : src_device.index();
  if (dst_device.is_cuda() && src_device.is_cuda() && dst_device.index() != src_device.index()) {
    copy_between_devices(dst, dst_device.index(), src, src_device.index(), nbytes);
    return;
  }
  DeviceGuard guard(index);
  cudaStream_t stream = context(index).stream;
  NUDGE_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDefault, stream));
  // Host memory here is pageable and owned by the caller: finish before returning it.
  if (dst_device.is_cpu() || src_device.is_cpu()) {
    NUDGE_CUDA_CHECK(cudaStreamSynchronize(stream));
    raise_device_error(index);
  }
}

void synchronize(int index) {
  DeviceGuard guard(index);
  NUDGE_CUDA_CHECK(cudaStreamSynchronize(context(index).stream));
  raise_device_error(index);
}

std::size_t free_memory(int index) {
  release_cached_memory(index);
  DeviceGuard guard(index);
  std::size_t free_bytes = 0, total_bytes = 0;
  NUDGE_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  return free_bytes;
}

/// A device whose context exists (the first nudge used), for host-side calls that need a current
/// context: made current by a guard, so they never create one on whatever device the thread has.
int device_with_context() {
  const std::vector<int> created = created_contexts();
  return created.empty() ? 0 : created.front();
}

void* allocate_pinned(std::size_t nbytes) {
  void* p = nullptr;
  DeviceGuard guard(device_with_context());
  if (cudaHostAlloc(&p, nbytes, cudaHostAllocPortable) == cudaSuccess) return p;
  cudaGetLastError();
  throw OutOfMemory("cuda: cannot allocate " + std::to_string(nbytes) + " bytes of pinned host memory");
}

void deallocate_pinned(void* p) noexcept {
  // An asynchronous upload on some nudge stream may still be reading this block: wait for those
  // streams (not the whole device, not another library's streams). A stream being captured cannot
  // be waited for: the free then happens when its capture ends.
  const auto free_now = [p] {
    for (const int index : created_contexts()) {
      DeviceGuard guard(index, std::nothrow);
      NUDGE_CUDA_WARN(cudaStreamSynchronize(context(index).stream), "freeing pinned memory");
    }
    DeviceGuard guard(device_with_context(), std::nothrow);
    NUDGE_CUDA_WARN(cudaFreeHost(p), "freeing pinned memory");
  };
  try {
    for (const int index : created_contexts())
      if (stream_is_capturing(index)) return run_when_not_capturing(index, free_now);
    free_now();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nudge: freeing pinned memory failed: %s\n", e.what());
  }
}

void copy_bytes_async(void* dst, Device dst_device, const void* src, Device src_device, std::size_t nbytes) {
  const int index = dst_device.is_cuda() ? dst_device.index() : src_device.index();
  // Captured, the copy would touch that pinned host block at every replay, long after the tensor
  // holding it may have given it back.
  NUDGE_CHECK(!stream_is_capturing(index),
              "to(non_blocking=true): an asynchronous copy between pinned host memory and cuda:", index,
              " cannot be captured in a CUDA graph (every replay would touch host memory that may be freed by then); "
              "copy_ the batch into a static device tensor before replay() instead");
  DeviceGuard guard(index);
  NUDGE_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDefault, context(index).stream));
}

/// A cudaEvent_t belongs to the device that was current when it was created, and may be recorded
/// only on that device's streams: the event is (re)created for the device it is recorded on.
struct DeviceEvent {
  cudaEvent_t event = nullptr;
  int device = -1;
};

void* event_create() { return new DeviceEvent; }

void event_destroy(void* handle) noexcept {
  auto* e = static_cast<DeviceEvent*>(handle);
  if (e->event) NUDGE_CUDA_WARN(cudaEventDestroy(e->event), "cuda::Event");
  delete e;
}

void event_record(void* handle, int index) {
  auto* e = static_cast<DeviceEvent*>(handle);
  DeviceGuard guard(index);
  if (e->device != index) {
    if (e->event) NUDGE_CUDA_CHECK(cudaEventDestroy(e->event));
    e->event = nullptr;
    NUDGE_CUDA_CHECK(cudaEventCreate(&e->event));
    e->device = index;
  }
  NUDGE_CUDA_CHECK(cudaEventRecord(e->event, context(index).stream));
}

void event_synchronize(void* handle) {
  auto* e = static_cast<DeviceEvent*>(handle);
  if (!e->event) return;
  NUDGE_CUDA_CHECK(cudaEventSynchronize(e->event));
  raise_device_error(e->device);
}

float event_elapsed_ms(void* start, void* end) {
  auto *s = static_cast<DeviceEvent*>(start), *e = static_cast<DeviceEvent*>(end);
  NUDGE_CHECK(s->event && e->event && s->device == e->device,
              "cuda::Event::elapsed_ms: both events must have been recorded on the same device (cuda:", s->device,
              " and cuda:", e->device, ")");
  float ms = 0;
  NUDGE_CUDA_CHECK(cudaEventElapsedTime(&ms, s->event, e->event));
  return ms;
}

}  // namespace

void release_cached_memory(int index) {
  DeviceGuard guard(index);
  cudaMemPool_t pool;
  NUDGE_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, index));
  NUDGE_CUDA_CHECK(cudaStreamSynchronize(context(index).stream));  // blocks freed in stream order are free now
  NUDGE_CUDA_CHECK(cudaMemPoolTrimTo(pool, 0));
}

std::size_t memory_reserved(int index) {
  DeviceGuard guard(index);
  cudaMemPool_t pool;
  NUDGE_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, index));
  std::uint64_t reserved = 0;
  NUDGE_CUDA_CHECK(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReservedMemCurrent, &reserved));
  return static_cast<std::size_t>(reserved);
}

void* device_allocate(int index, std::size_t nbytes) {
  if (void* p = allocate_if_capturing(index, nbytes)) return p;
  DeviceGuard guard(index);
  keep_freed_memory_cached(index);
  cudaStream_t stream = context(index).stream;
  void* p = nullptr;
  if (cudaMallocAsync(&p, nbytes, stream) == cudaSuccess) return p;
  cudaGetLastError();
  release_cached_memory(index);  // give cached blocks back to the driver and try once more
  if (cudaMallocAsync(&p, nbytes, stream) == cudaSuccess) return p;
  cudaGetLastError();
  std::size_t free_bytes = 0, total_bytes = 0;
  cudaMemGetInfo(&free_bytes, &total_bytes);
  throw OutOfMemory("cuda:" + std::to_string(index) + ": out of memory allocating " + std::to_string(nbytes) +
                    " bytes (" + std::to_string(free_bytes) + " of " + std::to_string(total_bytes) +
                    " bytes free on the device)");
}

void device_deallocate(int index, void* p, std::size_t) noexcept {
  if (deallocate_if_captured(index, p)) return;
  // Destructors must not throw: report and clear instead.
  DeviceGuard guard(index, std::nothrow);
  NUDGE_CUDA_WARN(cudaFreeAsync(p, context(index).stream), "freeing device memory");
}

DeviceRuntime runtime() {
  return DeviceRuntime{.device_count = device_count,
                       .allocate = device_allocate,
                       .deallocate = device_deallocate,
                       .copy_bytes = copy_bytes,
                       .synchronize = synchronize,
                       .free_memory = free_memory,
                       .memory_reserved = memory_reserved,
                       .empty_cache = release_cached_memory,
                       .allocate_pinned = allocate_pinned,
                       .deallocate_pinned = deallocate_pinned,
                       .copy_bytes_async = copy_bytes_async,
                       .event_create = event_create,
                       .event_destroy = event_destroy,
                       .event_record = event_record,
                       .event_synchronize = event_synchronize,
                       .event_elapsed_ms = event_elapsed_ms,
                       .capture_begin = capture_begin,
                       .capture_end = capture_end,
                       .graph_replay = graph_replay,
                       .graph_destroy = graph_destroy,
                       .is_capturing = stream_is_capturing,
                       .stream = [](int index) -> void* { return context(index).stream; },
                       .set_device = set_device,
                       .has_primary_context = primary_context_active};
}

}  // namespace nudge::kernels::cuda

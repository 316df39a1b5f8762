// CUDA memory and copies. Memory comes from the device's stream-ordered pool (cudaMallocAsync)
// with the release threshold raised so freed blocks stay cached: steady-state training does no
// cudaMalloc/cudaFree. On failure the pool's cache is trimmed and the allocation retried once.
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

#include "core/dispatch.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/graph_pool.h"
#include "kernels/cuda/kernels.h"

namespace nudge::cuda {

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

void* allocate(int index, std::size_t nbytes) {
  if (void* p = allocate_if_capturing(index, nbytes)) return p;
  DeviceGuard guard(index);
  keep_freed_memory_cached(index);
  cudaStream_t stream = context(index).stream;
  void* p = nullptr;
  if (cudaMallocAsync(&p, nbytes, stream) == cudaSuccess) return p;
  cudaGetLastError();
  // Give cached blocks back to the driver and try once more.
  cudaMemPool_t pool;
  NUDGE_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, index));
  NUDGE_CUDA_CHECK(cudaStreamSynchronize(stream));
  NUDGE_CUDA_CHECK(cudaMemPoolTrimTo(pool, 0));
  if (cudaMallocAsync(&p, nbytes, stream) == cudaSuccess) return p;
  cudaGetLastError();
  std::size_t free_bytes = 0, total_bytes = 0;
  cudaMemGetInfo(&free_bytes, &total_bytes);
  throw OutOfMemory("cuda:" + std::to_string(index) + ": out of memory allocating " + std::to_string(nbytes) +
                    " bytes (" + std::to_string(free_bytes) + " of " + std::to_string(total_bytes) +
                    " bytes free on the device)");
}

void deallocate(int index, void* p, std::size_t) noexcept {
  if (deallocate_if_captured(index, p)) return;
  // Destructors must not throw: log instead.
  int previous = -1;
  cudaGetDevice(&previous);
  if (previous != index) cudaSetDevice(index);
  const cudaError_t err = cudaFreeAsync(p, context(index).stream);
  if (err != cudaSuccess) std::fprintf(stderr, "nudge: cudaFreeAsync failed: %s\n", cudaGetErrorString(err));
  if (previous != index) cudaSetDevice(previous);
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, std::size_t nbytes) {
  const int index = dst_device.is_cuda() ? dst_device.index() : src_device.index();
  DeviceGuard guard(index);
  cudaStream_t stream = context(index).stream;
  if (dst_device.is_cuda() && src_device.is_cuda() && dst_device.index() != src_device.index()) {
    // The source device may still be writing: order after its stream, then copy peer-to-peer.
    NUDGE_CUDA_CHECK(cudaStreamSynchronize(context(src_device.index()).stream));
    NUDGE_CUDA_CHECK(cudaMemcpyPeerAsync(dst, dst_device.index(), src, src_device.index(), nbytes, stream));
  } else {
    NUDGE_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDefault, stream));
  }
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

void* allocate_pinned(std::size_t nbytes) {
  void* p = nullptr;
  if (cudaHostAlloc(&p, nbytes, cudaHostAllocPortable) == cudaSuccess) return p;
  cudaGetLastError();
  throw OutOfMemory("cuda: cannot allocate " + std::to_string(nbytes) + " bytes of pinned host memory");
}

void deallocate_pinned(void* p) noexcept {
  // An asynchronous upload may still be reading this block: wait for the device first.
  cudaDeviceSynchronize();
  const cudaError_t err = cudaFreeHost(p);
  if (err != cudaSuccess) std::fprintf(stderr, "nudge: cudaFreeHost failed: %s\n", cudaGetErrorString(err));
}

void copy_bytes_async(void* dst, Device dst_device, const void* src, Device src_device, std::size_t nbytes) {
  const int index = dst_device.is_cuda() ? dst_device.index() : src_device.index();
  DeviceGuard guard(index);
  NUDGE_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDefault, context(index).stream));
}

void* event_create() {
  cudaEvent_t event = nullptr;
  NUDGE_CUDA_CHECK(cudaEventCreate(&event));
  return event;
}

void event_destroy(void* event) noexcept { cudaEventDestroy(static_cast<cudaEvent_t>(event)); }

void event_record(void* event, int index) {
  DeviceGuard guard(index);
  NUDGE_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(event), context(index).stream));
}

void event_synchronize(void* event) {
  NUDGE_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(event)));
  int device = 0;
  NUDGE_CUDA_CHECK(cudaGetDevice(&device));
  raise_device_error(device);
}

float event_elapsed_ms(void* start, void* end) {
  float ms = 0;
  NUDGE_CUDA_CHECK(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start), static_cast<cudaEvent_t>(end)));
  return ms;
}

}  // namespace

DeviceRuntime runtime() {
  return DeviceRuntime{.device_count = device_count,
                       .allocate = allocate,
                       .deallocate = deallocate,
                       .copy_bytes = copy_bytes,
                       .synchronize = synchronize,
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
                       .is_capturing = stream_is_capturing};
}

}  // namespace nudge::cuda

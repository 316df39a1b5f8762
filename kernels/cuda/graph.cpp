// CUDA graphs: capture the work queued on a device's stream, instantiate it once, replay it with
// one launch. Memory for the capture comes from the graph's own pool (graph_pool.h).
#include <cstdio>
#include <memory>

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/graph_pool.h"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/scratch.h"

namespace nudge::kernels::cuda {

namespace {

/// What core's cuda::Graph holds: the executable graph and the memory its kernels use.
struct CapturedGraph {
  cudaGraphExec_t exec = nullptr;
  std::shared_ptr<GraphPool> pool;
  int device = 0;
};

}  // namespace

void capture_begin(int index) {
  DeviceGuard guard(index);
  cudaStream_t stream = context(index).stream;
  // Before anything else: synchronising a stream that is being captured would invalidate the
  // capture in progress instead of refusing the nested one.
  NUDGE_CHECK(!stream_is_capturing(index), "cuda::Graph::capture: cuda:", index,
              " is already being captured (a capture inside a captured step, or another thread's); nested captures "
              "are not supported");
  // Work queued before the capture must not be mistaken for part of it, nor race with it.
  NUDGE_CUDA_CHECK(cudaStreamSynchronize(stream));
  raise_device_error(index);
  begin_capture_allocations(index);
  // Thread-local: another thread's unsafe calls (a cudaMalloc elsewhere) do not break the capture.
  const cudaError_t err = cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal);
  if (err != cudaSuccess) {
    end_capture_allocations(index);
    NUDGE_CUDA_CHECK(err);
  }
}

void* capture_end(int index, bool abort) {
  DeviceGuard guard(index);
  cudaGraph_t graph = nullptr;
  const cudaError_t end_err = cudaStreamEndCapture(context(index).stream, &graph);
  auto captured = std::make_unique<CapturedGraph>();
  captured->pool = end_capture_allocations(index);
  captured->device = index;
  if (abort || end_err != cudaSuccess) {
    if (graph) cudaGraphDestroy(graph);
    cudaGetLastError();
    if (abort) return nullptr;
    NUDGE_FAIL("cuda::Graph: the capture was invalidated (", cudaGetErrorName(end_err),
               "): the step did something a CUDA graph cannot hold, such as waiting for the device");
  }
  const cudaError_t err = cudaGraphInstantiate(&captured->exec, graph, 0);
  cudaGraphDestroy(graph);
  NUDGE_CUDA_CHECK(err);
  return captured.release();
}

void graph_replay(void* handle) {
  auto* captured = static_cast<CapturedGraph*>(handle);
  DeviceGuard guard(captured->device);
  cudaStream_t stream = context(captured->device).stream;
  // The pool keeps freed blocks cached without limit; a launch that needs memory of its own can
  // find the device full of nudge's cache: give it back and launch once more.
  if (const cudaError_t err = cudaGraphLaunch(captured->exec, stream); err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    release_cached_memory(captured->device);
    NUDGE_CUDA_CHECK(cudaGraphLaunch(captured->exec, stream));
  } else {
    NUDGE_CUDA_CHECK(err);
  }
  profiling::count_kernel();  // one launch replays the whole step
}

void graph_destroy(void* handle) noexcept {
  auto* captured = static_cast<CapturedGraph*>(handle);
  // A replay may still be running on the pool's memory: let it finish before giving memory back.
  // Neither the wait nor the frees may happen while the device is being captured: then later.
  try {
    run_when_not_capturing(captured->device, [captured] {
      DeviceGuard guard(captured->device, std::nothrow);
      NUDGE_CUDA_WARN(cudaStreamSynchronize(context(captured->device).stream), "destroying a CUDA graph");
      NUDGE_CUDA_WARN(cudaGraphExecDestroy(captured->exec), "destroying a CUDA graph");
      delete captured;
    });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nudge: destroying a CUDA graph failed: %s\n", e.what());
  }
}

bool stream_is_capturing(int index) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  NUDGE_CUDA_CHECK(cudaStreamIsCapturing(context(index).stream, &status));
  return status != cudaStreamCaptureStatusNone;
}

}  // namespace nudge::kernels::cuda

#pragma once
/// Per-device CUDA state: the stream every nudge op is queued on, the cuBLAS handle bound to it,
/// and the device properties launch configurations need.
#include <cublas_v2.h>
#include <cuda_runtime.h>

namespace nudge::cuda {

struct DeviceContext {
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  int sm_count = 0;
  /// Zeroed arrival counters for single-launch grid reductions ("last block finishes"): each
  /// kernel that uses one resets it to 0 before exiting, so they are zero between launches.
  unsigned* arrival_counters = nullptr;
  static constexpr int kArrivalCounters = 65536;
};

/// The context of device `index`, created on first use (thread-safe). Contexts live until the
/// process exits and are deliberately never destroyed: static destructors may run after the
/// CUDA driver has shut down.
DeviceContext& context(int index);

/// Makes `index` the current device for the guard's lifetime.
class DeviceGuard {
 public:
  explicit DeviceGuard(int index);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
};

}  // namespace nudge::cuda

#pragma once
/// Per-device CUDA state: the stream every nudge op is queued on, the cuBLAS handle bound to it,
/// and the device properties launch configurations need.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <mutex>
#include <vector>

namespace nudge::kernels::cuda {

/// An input error found by a kernel (a class index out of range), written by the device into
/// host-mapped memory and raised as a nudge::Error at the next synchronisation with the host:
/// checking inputs on the host would stall the GPU queue on every call.
struct DeviceErrorReport {
  /// 0 while there is no error; else (row + 1) << 32 | the offending value as a uint32, in one
  /// store so that two failing rows never mix their fields.
  unsigned long long row_and_value;
  long long bound;  // the valid range is [0, bound)
};

struct DeviceContext {
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cublasMath_t math_mode = CUBLAS_DEFAULT_MATH;  // what `cublas` is set to (TF32 or not)
  /// A cuBLAS handle is not thread-safe: its math mode and each GEMM queued on it go under this.
  std::mutex cublas_mutex;
  int sm_count = 0;
  /// Zeroed arrival counters for single-launch grid reductions ("last block finishes"): each
  /// kernel that uses one resets it to 0 before exiting, so they are zero between launches.
  unsigned* arrival_counters = nullptr;
  static constexpr int kArrivalCounters = 65536;
  /// Scratch for the per-block partial sums of single-launch reductions (fused losses): a sum and
  /// a count per block, kReducePartials of each. Kernels on the one stream run in order, so one
  /// buffer serves them all.
  double* reduce_partials = nullptr;
  static constexpr int kReducePartials = 1024;
  /// Device-written error report: `error_device` is what kernels write, `error_host` the same
  /// bytes seen from the host.
  DeviceErrorReport* error_device = nullptr;
  volatile DeviceErrorReport* error_host = nullptr;
};

/// The context of device `index`, created on first use (thread-safe). Contexts live until the
/// process exits and are deliberately never destroyed: static destructors may run after the
/// CUDA driver has shut down.
DeviceContext& context(int index);

/// The devices whose context exists (in creation order), e.g. the streams to wait for.
std::vector<int> created_contexts();

/// Throws the error a kernel reported on device `index` since the last check, if any. Called
/// after every wait for the device (synchronize, copies to the host, event waits).
void raise_device_error(int index);

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

}  // namespace nudge::kernels::cuda

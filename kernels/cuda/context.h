#pragma once
/// Per-device CUDA state: the stream every nudge op is queued on, the cuBLAS handle bound to it,
/// and the device properties launch configurations need.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <mutex>
#include <new>
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
  /// cuBLAS's workspace, owned by nudge (cublasSetWorkspace): eager and captured GEMMs use the
  /// same memory, and cuBLAS never allocates inside a capture or competes with the pool's cache.
  void* cublas_workspace = nullptr;
  static constexpr std::size_t kCublasWorkspaceBytes = std::size_t{32} << 20;  // NVIDIA's advice for Hopper
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

/// True when device `index` has an active primary context in this process (asked of the driver,
/// which creates none by answering). True also when the driver cannot be asked.
bool primary_context_active(int index) noexcept;

/// Makes `index` the current device for the guard's lifetime, then restores the previous one —
/// only when that device's primary context is active: since CUDA 12, cudaSetDevice creates the
/// context it switches to, so restoring device 0 for a thread that never used it would put a
/// context (~0.5 GiB) on GPU 0 in every process of a job and fail on an EXCLUSIVE_PROCESS GPU.
/// A thread that never used its previous device keeps `index` current instead.
class DeviceGuard {
 public:
  explicit DeviceGuard(int index);
  /// For paths that must not throw (frees, destructors): a failure is reported on stderr and
  /// cleared (NUDGE_CUDA_WARN), and the guard then restores nothing.
  DeviceGuard(int index, std::nothrow_t) noexcept;
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;  // -1: nothing to restore
};

/// Makes `index` the calling thread's current device for good (a rank's GPU, set once).
void set_device(int index);

}  // namespace nudge::kernels::cuda

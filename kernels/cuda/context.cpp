#include "kernels/cuda/context.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <mutex>

#include <cuda.h>

#include <utility>

#include "kernels/cuda/check.h"

namespace nudge::kernels::cuda {

namespace {
constexpr int kMaxDevices = 64;
std::array<DeviceContext, kMaxDevices> contexts;
std::array<std::once_flag, kMaxDevices> created;
std::mutex created_mutex;
std::vector<int> created_list;
}  // namespace

DeviceContext& context(int index) {
  NUDGE_CHECK(index >= 0 && index < kMaxDevices, "cuda: device index ", index, " out of range");
  std::call_once(created[index], [index] {
    DeviceGuard guard(index);
    DeviceContext& c = contexts[index];
    // A creation that fails halfway (out of memory, a cuBLAS that cannot start) gives back what it
    // made: call_once runs it again on the next use, which would otherwise leak it again.
    struct UndoUnlessDone {
      DeviceContext& c;
      bool done = false;
      ~UndoUnlessDone() {
        if (done) return;
        if (c.cublas) cublasDestroy(c.cublas);
        for (void* p :
             {static_cast<void*>(c.arrival_counters), static_cast<void*>(c.reduce_partials), c.cublas_workspace})
          if (p) NUDGE_CUDA_WARN(cudaFree(p), "undoing a failed context creation");
        if (c.error_host)
          NUDGE_CUDA_WARN(cudaFreeHost(const_cast<DeviceErrorReport*>(c.error_host)),
                          "undoing a failed context creation");
        if (c.stream) NUDGE_CUDA_WARN(cudaStreamDestroy(c.stream), "undoing a failed context creation");
        c.cublas = nullptr;
        c.arrival_counters = nullptr;
        c.reduce_partials = nullptr;
        c.cublas_workspace = nullptr;
        c.error_host = nullptr;
        c.error_device = nullptr;
        c.stream = nullptr;
      }
    } undo{c};
    // Non-blocking: never serialises with the legacy default stream other libraries may use.
    NUDGE_CUDA_CHECK(cudaStreamCreateWithFlags(&c.stream, cudaStreamNonBlocking));
    NUDGE_CUBLAS_CHECK(cublasCreate(&c.cublas));
    NUDGE_CUBLAS_CHECK(cublasSetStream(c.cublas, c.stream));
    NUDGE_CUDA_CHECK(cudaMalloc(&c.cublas_workspace, DeviceContext::kCublasWorkspaceBytes));
    NUDGE_CUBLAS_CHECK(cublasSetWorkspace(c.cublas, c.cublas_workspace, DeviceContext::kCublasWorkspaceBytes));
    NUDGE_CUDA_CHECK(cudaDeviceGetAttribute(&c.sm_count, cudaDevAttrMultiProcessorCount, index));
    NUDGE_CUDA_CHECK(cudaMalloc(&c.arrival_counters, DeviceContext::kArrivalCounters * sizeof(unsigned)));
    // On nudge's own stream: a non-blocking stream does not wait for the legacy stream's cudaMemset.
    NUDGE_CUDA_CHECK(
        cudaMemsetAsync(c.arrival_counters, 0, DeviceContext::kArrivalCounters * sizeof(unsigned), c.stream));
    NUDGE_CUDA_CHECK(cudaStreamSynchronize(c.stream));
    NUDGE_CUDA_CHECK(cudaMalloc(&c.reduce_partials, 2 * DeviceContext::kReducePartials * sizeof(double)));
    void* report = nullptr;
    NUDGE_CUDA_CHECK(cudaHostAlloc(&report, sizeof(DeviceErrorReport), cudaHostAllocMapped | cudaHostAllocPortable));
    *static_cast<DeviceErrorReport*>(report) = DeviceErrorReport{0, 0};
    c.error_host = static_cast<DeviceErrorReport*>(report);
    NUDGE_CUDA_CHECK(cudaHostGetDevicePointer(reinterpret_cast<void**>(&c.error_device), report, 0));
    std::lock_guard lock(created_mutex);
    created_list.push_back(index);
    undo.done = true;
  });
  return contexts[index];
}

std::vector<int> created_contexts() {
  std::lock_guard lock(created_mutex);
  return created_list;
}

void raise_device_error(int index) {
  volatile DeviceErrorReport* report = context(index).error_host;
  const unsigned long long packed = report->row_and_value;
  if (packed == 0) return;
  const long long bound = report->bound;
  report->row_and_value = 0;
  const long long row = static_cast<long long>(packed >> 32) - 1;
  const auto value = static_cast<std::int32_t>(packed & 0xffffffffu);
  NUDGE_FAIL("cross_entropy: target ", row, " is class ", value, ", outside [0, ", bound, ") (found on cuda:", index,
             " by the loss kernel and reported at the next synchronisation; the loss of that row is NaN)");
}

bool primary_context_active(int index) noexcept {
  using GetState = CUresult (*)(CUdevice, unsigned int*, int*);
  using GetDevice = CUresult (*)(CUdevice*, int);
  static const auto [get_state, get_device] = [] {
    void *state = nullptr, *device = nullptr;
    cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
    if (!NUDGE_CUDA_WARN(
            cudaGetDriverEntryPointByVersion("cuDevicePrimaryCtxGetState", &state, 12000, cudaEnableDefault, &found),
            "looking up cuDevicePrimaryCtxGetState") ||
        found != cudaDriverEntryPointSuccess)
      state = nullptr;
    if (!NUDGE_CUDA_WARN(cudaGetDriverEntryPointByVersion("cuDeviceGet", &device, 12000, cudaEnableDefault, &found),
                         "looking up cuDeviceGet") ||
        found != cudaDriverEntryPointSuccess)
      device = nullptr;
    return std::pair{reinterpret_cast<GetState>(state), reinterpret_cast<GetDevice>(device)};
  }();
  if (get_state == nullptr || get_device == nullptr) return true;
  CUdevice device = 0;
  unsigned int flags = 0;
  int active = 0;
  return get_device(&device, index) != CUDA_SUCCESS || get_state(device, &flags, &active) != CUDA_SUCCESS ||
         active != 0;
}

DeviceGuard::DeviceGuard(int index) {
  int current = -1;
  NUDGE_CUDA_CHECK(cudaGetDevice(&current));
  if (current == index) return;
  NUDGE_CUDA_CHECK(cudaSetDevice(index));
  previous_ = current;
}

DeviceGuard::DeviceGuard(int index, std::nothrow_t) noexcept {
  int current = -1;
  if (!NUDGE_CUDA_WARN(cudaGetDevice(&current), "switching device") || current == index) return;
  if (NUDGE_CUDA_WARN(cudaSetDevice(index), "switching device")) previous_ = current;
}

DeviceGuard::~DeviceGuard() {
  if (previous_ >= 0 && primary_context_active(previous_))
    NUDGE_CUDA_WARN(cudaSetDevice(previous_), "restoring the current device");
}

void set_device(int index) { NUDGE_CUDA_CHECK(cudaSetDevice(index)); }

}  // namespace nudge::kernels::cuda

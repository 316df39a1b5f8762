#include "kernels/cuda/context.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <mutex>

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
    // Non-blocking: never serialises with the legacy default stream other libraries may use.
    NUDGE_CUDA_CHECK(cudaStreamCreateWithFlags(&c.stream, cudaStreamNonBlocking));
    NUDGE_CUBLAS_CHECK(cublasCreate(&c.cublas));
    NUDGE_CUBLAS_CHECK(cublasSetStream(c.cublas, c.stream));
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

DeviceGuard::DeviceGuard(int index) {
  NUDGE_CUDA_CHECK(cudaGetDevice(&previous_));
  if (previous_ != index) NUDGE_CUDA_CHECK(cudaSetDevice(index));
}

DeviceGuard::~DeviceGuard() {
  int current = -1;
  if (cudaGetDevice(&current) == cudaSuccess && current != previous_ && cudaSetDevice(previous_) != cudaSuccess)
    std::fprintf(stderr, "nudge: could not restore CUDA device %d\n", previous_);
}

}  // namespace nudge::kernels::cuda

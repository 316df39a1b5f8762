#include "kernels/cuda/context.h"

#include <array>
#include <cstdio>
#include <mutex>

#include "kernels/cuda/check.h"

namespace nudge::cuda {

namespace {
constexpr int kMaxDevices = 64;
std::array<DeviceContext, kMaxDevices> contexts;
std::array<std::once_flag, kMaxDevices> created;
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
    NUDGE_CUDA_CHECK(cudaMemset(c.arrival_counters, 0, DeviceContext::kArrivalCounters * sizeof(unsigned)));
  });
  return contexts[index];
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

}  // namespace nudge::cuda

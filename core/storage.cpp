#include "core/storage.h"

#include <array>
#include <atomic>
#include <cstdio>

#include "core/capture_arena.h"
#include "kernels/dispatch.h"
#include "core/error.h"

// core reaches the backends only through the dispatch tables and the plain-data calls.
using namespace nudge::kernels;  // NOLINT(google-build-using-namespace)

namespace nudge {

namespace {
constexpr int kMaxCudaDevices = 64;
std::atomic<std::int64_t> cpu_live{0};
std::array<std::atomic<std::int64_t>, kMaxCudaDevices> cuda_live{};

std::atomic<std::int64_t>& live_counter(Device d) {
  if (d.is_cpu()) return cpu_live;
  NUDGE_CHECK(d.index() < kMaxCudaDevices, "device ", d, ": nudge supports at most ", kMaxCudaDevices, " CUDA devices");
  return cuda_live[d.index()];
}
}  // namespace

Storage::Storage(Device device, std::size_t nbytes) : device_(device), nbytes_(nbytes), data_(nullptr) {
  const DeviceRuntime& rt = dispatch::runtime(device);
  // Zero-byte tensors are legal (empty shapes); they own no memory.
  if (nbytes_ > 0) {
    if (device.is_cpu() && capture_arena_active()) [[unlikely]] {
      arena_ = active_capture_arena();
      data_ = arena_->allocate(nbytes_);
    } else {
      data_ = rt.allocate(device.index(), nbytes_);
    }
  }
  live_counter(device_) += static_cast<std::int64_t>(nbytes_);
}

Storage::Storage(Pinned, std::size_t nbytes) : device_(Device::cpu()), nbytes_(nbytes), data_(nullptr), pinned_(true) {
  const DeviceRuntime& rt = dispatch::runtime(Device::cuda(0));  // throws with the reason when there is no GPU
  if (nbytes_ > 0) data_ = rt.allocate_pinned(nbytes_);
  live_counter(device_) += static_cast<std::int64_t>(nbytes_);
}

Storage::~Storage() {
  live_counter(device_) -= static_cast<std::int64_t>(nbytes_);
  if (data_ == nullptr || arena_) return;  // the arena frees its blocks when the graph and its tensors are gone
  if (pinned_) {
    dispatch::runtime_if_built(DeviceType::CUDA)->deallocate_pinned(data_);
    return;
  }
  // The runtime was looked up successfully when this storage was allocated.
  const DeviceRuntime* rt = dispatch::runtime_if_built(device_.type());
  rt->deallocate(device_.index(), data_, nbytes_);
}

namespace memory {
std::int64_t live_bytes(Device device) { return live_counter(device).load(); }
}  // namespace memory

}  // namespace nudge

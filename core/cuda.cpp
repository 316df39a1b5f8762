#include "core/cuda.h"

#include <atomic>

#include "kernels/dispatch.h"
#include "core/error.h"

// core reaches the backends only through the dispatch tables and the plain-data calls.
using namespace nudge::kernels;  // NOLINT(google-build-using-namespace)

namespace nudge::cuda {

int device_count() {
  const DeviceRuntime* rt = dispatch::runtime_if_built(DeviceType::CUDA);
  return rt ? rt->device_count(nullptr) : 0;
}

bool is_available() { return device_count() > 0; }

std::string unavailable_reason() {
  const DeviceRuntime* rt = dispatch::runtime_if_built(DeviceType::CUDA);
  if (rt == nullptr) return dispatch::missing_backend_reason(DeviceType::CUDA);
  std::string why;
  return rt->device_count(&why) > 0 ? std::string() : "no CUDA device is available: " + why;
}

namespace {
std::atomic<bool> tf32_allowed{false};
}  // namespace

void set_allow_tf32(bool allow) { tf32_allowed.store(allow); }
bool allow_tf32() { return tf32_allowed.load(); }

void synchronize(int device) { dispatch::runtime(Device::cuda(device)).synchronize(device); }

void* stream(int device) { return dispatch::runtime(Device::cuda(device)).stream(device); }

void set_device(int device) {
  NUDGE_CHECK(device >= 0 && device < device_count(), "cuda::set_device: cuda:", device, " does not exist (",
              device_count(), " CUDA devices", is_available() ? "" : "; " + unavailable_reason(), ")");
  dispatch::runtime(Device::cuda(device)).set_device(device);
}

bool has_primary_context(int device) {
  if (device < 0 || device >= device_count()) return false;
  return dispatch::runtime(Device::cuda(device)).has_primary_context(device);
}

std::size_t free_memory(int device) {
  if (device >= device_count()) return 0;
  return dispatch::runtime(Device::cuda(device)).free_memory(device);
}

std::size_t memory_reserved(int device) {
  if (device < 0 || device >= device_count()) return 0;
  return dispatch::runtime(Device::cuda(device)).memory_reserved(device);
}

void empty_cache(int device) {
  if (device < 0 || device >= device_count()) return;
  dispatch::runtime(Device::cuda(device)).empty_cache(device);
}

}  // namespace nudge::cuda

namespace nudge::cuda {

namespace {
const DeviceRuntime& cuda_runtime() { return dispatch::runtime(Device::cuda(0)); }
}  // namespace

Event::Event() : event_(cuda_runtime().event_create()) {}

Event::~Event() { dispatch::runtime_if_built(DeviceType::CUDA)->event_destroy(event_); }

void Event::record(int device) {
  dispatch::runtime(Device::cuda(device)).event_record(event_, device);
  recorded_ = true;
}

void Event::synchronize() {
  if (recorded_) cuda_runtime().event_synchronize(event_);
}

float Event::elapsed_ms(const Event& start) const {
  NUDGE_CHECK(recorded_ && start.recorded_, "cuda::Event::elapsed_ms: both events must have been recorded");
  return cuda_runtime().event_elapsed_ms(start.event_, event_);
}

}  // namespace nudge::cuda

#include "core/cuda.h"

#include "core/dispatch.h"

namespace nudge::cuda {

int device_count() {
  const DeviceRuntime* rt = dispatch::runtime_if_built(DeviceType::CUDA);
  return rt ? rt->device_count(nullptr) : 0;
}

bool is_available() { return device_count() > 0; }

std::string unavailable_reason() {
  const DeviceRuntime* rt = dispatch::runtime_if_built(DeviceType::CUDA);
  if (rt == nullptr) return "nudge was built without CUDA (NUDGE_CUDA=OFF)";
  std::string why;
  return rt->device_count(&why) > 0 ? std::string() : "no CUDA device is available: " + why;
}

void synchronize(int device) { dispatch::runtime(Device::cuda(device)).synchronize(device); }

}  // namespace nudge::cuda

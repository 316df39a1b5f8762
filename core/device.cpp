#include "core/device.h"

#include <charconv>

#include "core/error.h"

namespace nudge {

Device::Device(std::string_view spec) : type_(DeviceType::CPU), index_(0) {
  if (spec == "cpu") return;
  NUDGE_CHECK(spec.substr(0, 4) == "cuda", "Device: expected \"cpu\", \"cuda\" or \"cuda:N\", got \"", spec, "\"");
  type_ = DeviceType::CUDA;
  if (spec.size() == 4) return;
  const std::string_view digits = spec.substr(5);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index_);
  NUDGE_CHECK(
      spec[4] == ':' && !digits.empty() && ec == std::errc() && end == digits.data() + digits.size() && index_ >= 0,
      "Device: expected \"cpu\", \"cuda\" or \"cuda:N\", got \"", spec, "\"");
}

std::string Device::str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index_); }

}  // namespace nudge

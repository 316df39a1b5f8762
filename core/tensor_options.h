#pragma once
/// dtype and device of a tensor to create: `TensorOptions().dtype(kFloat64).device(kCUDA)`,
/// or just `kFloat64` / `Device("cuda")` where a TensorOptions is expected.
#include "core/device.h"
#include "core/dtype.h"

namespace nudge {

class TensorOptions {
 public:
  TensorOptions() = default;
  TensorOptions(DType dtype) : dtype_(dtype) {}           // NOLINT: implicit, as in PyTorch
  TensorOptions(Device device) : device_(device) {}       // NOLINT
  TensorOptions(DeviceType type) : device_(type) {}       // NOLINT
  TensorOptions(const char* device) : device_(device) {}  // NOLINT

  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  TensorOptions dtype(DType d) const {
    TensorOptions o = *this;
    o.dtype_ = d;
    return o;
  }
  TensorOptions device(Device d) const {
    TensorOptions o = *this;
    o.device_ = d;
    return o;
  }

 private:
  DType dtype_ = DType::Float32;
  Device device_ = Device::cpu();
};

}  // namespace nudge

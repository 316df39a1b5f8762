#include "kernels/cpu/kernels.h"

namespace nudge {

void register_cpu_kernels() {
  dispatch::set_runtime(DeviceType::CPU, cpu::runtime());
  dispatch::unary.set(DeviceType::CPU, cpu::unary);
  dispatch::binary.set(DeviceType::CPU, cpu::binary);
  dispatch::binary_scalar.set(DeviceType::CPU, cpu::binary_scalar);
  dispatch::copy.set(DeviceType::CPU, cpu::copy);
  dispatch::fill.set(DeviceType::CPU, cpu::fill);
  dispatch::reduce.set(DeviceType::CPU, cpu::reduce);
  dispatch::matmul.set(DeviceType::CPU, cpu::matmul);
}

}  // namespace nudge

#include "kernels/cuda/kernels.h"

namespace nudge {

void register_cuda_kernels() {
  dispatch::set_runtime(DeviceType::CUDA, cuda::runtime());
  dispatch::unary.set(DeviceType::CUDA, cuda::unary);
  dispatch::binary.set(DeviceType::CUDA, cuda::binary);
  dispatch::binary_scalar.set(DeviceType::CUDA, cuda::binary_scalar);
  dispatch::copy.set(DeviceType::CUDA, cuda::copy);
  dispatch::fill.set(DeviceType::CUDA, cuda::fill);
  dispatch::reduce.set(DeviceType::CUDA, cuda::reduce);
  dispatch::matmul.set(DeviceType::CUDA, cuda::matmul);
}

}  // namespace nudge

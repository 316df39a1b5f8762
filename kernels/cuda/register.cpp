#include "kernels/cuda/kernels.h"

namespace nudge {

void register_cuda_kernels() {
  dispatch::install(DeviceType::CUDA, {.runtime = cuda::runtime(),
                                      .unary = cuda::unary,
                                      .binary = cuda::binary,
                                      .binary_scalar = cuda::binary_scalar,
                                      .copy = cuda::copy,
                                      .fill = cuda::fill,
                                      .reduce = cuda::reduce,
                                      .matmul = cuda::matmul,
                                      .bias_activation = cuda::bias_activation,
                                      .activation_backward = cuda::activation_backward,
                                      .sgd_step = cuda::sgd_step,
                                      .adam_step = cuda::adam_step,
                                      .loss = cuda::loss});
}

}  // namespace nudge

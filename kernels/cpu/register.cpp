#include "kernels/cpu/kernels.h"

namespace nudge {

void register_cpu_kernels() {
  cpu::apply_thread_environment();
  dispatch::install(DeviceType::CPU, {.runtime = cpu::runtime(),
                                      .unary = cpu::unary,
                                      .binary = cpu::binary,
                                      .binary_scalar = cpu::binary_scalar,
                                      .copy = cpu::copy,
                                      .fill = cpu::fill,
                                      .reduce = cpu::reduce,
                                      .matmul = cpu::matmul,
                                      .bias_activation = cpu::bias_activation,
                                      .activation_backward = cpu::activation_backward,
                                      .sgd_step = cpu::sgd_step,
                                      .adam_step = cpu::adam_step,
                                      .loss = cpu::loss});
}

}  // namespace nudge

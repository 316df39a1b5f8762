#include "kernels/cuda/kernels.h"

namespace nudge::kernels {

void register_cuda_kernels() {
  dispatch::KernelSet set{.runtime = cuda::runtime()};
#define NUDGE_REGISTER(name, Call) set.name = cuda::name;
  NUDGE_OP_FAMILIES(NUDGE_REGISTER)
#undef NUDGE_REGISTER
  dispatch::install(DeviceType::CUDA, set);
}

}  // namespace nudge::kernels

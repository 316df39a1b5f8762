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

/// What core compares with its own backend_abi() before registering this library.
extern "C" __attribute__((visibility("default"))) std::uint64_t nudge_cuda_backend_abi() {
  return nudge::kernels::dispatch::backend_abi();
}

/// The entry point core looks up after loading this library (kernels/dispatch.cpp).
extern "C" __attribute__((visibility("default"))) void nudge_register_cuda_backend() {
  nudge::kernels::register_cuda_kernels();
}

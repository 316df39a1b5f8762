#include "kernels/cpu/kernels.h"

namespace nudge::kernels {

void register_cpu_kernels() {
  cpu::apply_thread_environment();
  dispatch::KernelSet set{.runtime = cpu::runtime()};
#define NUDGE_REGISTER(name, Call) set.name = cpu::name;
  NUDGE_OP_FAMILIES(NUDGE_REGISTER)
#undef NUDGE_REGISTER
  dispatch::install(DeviceType::CPU, set);
}

}  // namespace nudge::kernels

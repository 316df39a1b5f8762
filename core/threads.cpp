#include "core/threads.h"

#include "core/error.h"
#include "kernels/dispatch.h"

namespace nudge {

void set_num_threads(int threads) {
  NUDGE_CHECK(threads >= 1, "set_num_threads: expects at least 1 thread, got ", threads);
  kernels::dispatch::runtime(Device::cpu()).set_threads(threads);
}

int num_threads() { return kernels::dispatch::runtime(Device::cpu()).get_threads(); }

}  // namespace nudge

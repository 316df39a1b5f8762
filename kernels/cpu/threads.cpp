// BLAS threading (core/threads.h) for OpenBLAS.
#include "core/threads.h"

#include <cblas.h>

#include <cstdlib>
#include <mutex>

#include "core/error.h"
#include "kernels/cpu/kernels.h"

namespace nudge {

namespace cpu {
void apply_thread_environment() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (const char* env = std::getenv("NUDGE_NUM_THREADS")) {
      const int threads = std::atoi(env);
      NUDGE_CHECK(threads >= 1, "NUDGE_NUM_THREADS must be a positive integer, got \"", env, "\"");
      openblas_set_num_threads(threads);
    }
  });
}
}  // namespace cpu

void set_num_threads(int threads) {
  NUDGE_CHECK(threads >= 1, "set_num_threads: expects at least 1 thread, got ", threads);
  cpu::apply_thread_environment();
  openblas_set_num_threads(threads);
}

int num_threads() {
  cpu::apply_thread_environment();
  return openblas_get_num_threads();
}

}  // namespace nudge

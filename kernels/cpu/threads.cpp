// BLAS threading for OpenBLAS: the CPU runtime's thread hooks (core/threads.h calls them).
#include <cblas.h>

#include <cstdlib>
#include <mutex>

#include "core/error.h"
#include "kernels/cpu/kernels.h"

namespace nudge::kernels::cpu {

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

void set_threads(int threads) {
  apply_thread_environment();
  openblas_set_num_threads(threads);
}

int get_threads() {
  apply_thread_environment();
  return openblas_get_num_threads();
}

}  // namespace nudge::kernels::cpu

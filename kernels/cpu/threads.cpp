// CPU threads: OpenBLAS's and the elementwise loops' pool, one count for both (core/threads.h).
#include <cblas.h>

#include <cstdlib>
#include <mutex>

#include "core/error.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/parallel.h"

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
  set_loop_threads(threads);  // the elementwise loops' pool (kernels/cpu/parallel.h) follows
}

int get_threads() {
  apply_thread_environment();
  return openblas_get_num_threads();
}

}  // namespace nudge::kernels::cpu

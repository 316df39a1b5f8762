#include "core/profiling.h"

#include "core/hot_thread_local.h"

namespace nudge::profiling {

namespace {
thread_local LaunchCounts counts NUDGE_HOT_THREAD_LOCAL;
}  // namespace

LaunchCounts launch_counts() { return counts; }
void count_kernel() { ++counts.kernels; }
void count_gemm() { ++counts.gemms; }

}  // namespace nudge::profiling

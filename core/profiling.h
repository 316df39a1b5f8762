#pragma once
/// Counts of the work nudge hands to its backends, so tests can prove what a fused path costs
/// ("a Dense forward is one GEMM plus one kernel"). On CUDA a kernel is a kernel launch and a
/// GEMM a cuBLAS call; on the CPU a kernel is one backend pass over the data and a GEMM one BLAS
/// call. Counts are per thread (the thread that issued the work).
#include <cstdint>

namespace nudge::profiling {

struct LaunchCounts {
  std::int64_t kernels = 0;
  std::int64_t gemms = 0;
};

/// Counts issued by this thread since it started.
LaunchCounts launch_counts();

/// The counts issued between its construction and counts().
class LaunchCounter {
 public:
  LaunchCounter() : start_(launch_counts()) {}
  LaunchCounts counts() const {
    const LaunchCounts now = launch_counts();
    return {now.kernels - start_.kernels, now.gemms - start_.gemms};
  }

 private:
  LaunchCounts start_;
};

/// Called by the backends.
void count_kernel();
void count_gemm();

}  // namespace nudge::profiling

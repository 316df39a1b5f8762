#pragma once
/// Every CUDA runtime and cuBLAS call goes through these: a failure throws nudge::Error naming
/// the call, the error and where it happened.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdio>

#include "core/error.h"
#include "core/profiling.h"

/// A failed call also clears the runtime's last error, so that the next, unrelated launch check
/// does not report it again (sticky errors, such as an illegal address, cannot be cleared).
#define NUDGE_CUDA_CHECK(expr)                                                                                      \
  do {                                                                                                              \
    const cudaError_t nudge_err_ = (expr);                                                                          \
    if (nudge_err_ != cudaSuccess) {                                                                                \
      cudaGetLastError();                                                                                           \
      NUDGE_FAIL("CUDA error in ", #expr, ": ", cudaGetErrorName(nudge_err_), " (", cudaGetErrorString(nudge_err_), \
                 ")");                                                                                              \
    }                                                                                                               \
  } while (0)

/// After every kernel launch: catches bad launch configurations immediately, and counts the
/// launch (core/profiling.h).
#define NUDGE_CUDA_CHECK_LAUNCH()         \
  do {                                    \
    NUDGE_CUDA_CHECK(cudaGetLastError()); \
    ::nudge::profiling::count_kernel();   \
  } while (0)

/// For paths that must not throw (destructors, frees, noexcept callbacks): a failed call is
/// reported on stderr with `what` and its runtime error is cleared, so the next, unrelated launch
/// check does not throw it. Evaluates to true when the call succeeded.
#define NUDGE_CUDA_WARN(expr, what) ::nudge::kernels::cuda::warn_on_error((expr), #expr, what)

namespace nudge::kernels::cuda {
inline bool warn_on_error(cudaError_t err, const char* call, const char* what) noexcept {
  if (err == cudaSuccess) return true;
  cudaGetLastError();
  std::fprintf(stderr, "nudge: %s: %s failed: %s (%s)\n", what, call, cudaGetErrorName(err), cudaGetErrorString(err));
  return false;
}
}  // namespace nudge::kernels::cuda

#define NUDGE_CUBLAS_CHECK(expr)                                                                      \
  do {                                                                                                \
    const cublasStatus_t nudge_status_ = (expr);                                                      \
    NUDGE_CHECK(nudge_status_ == CUBLAS_STATUS_SUCCESS, "cuBLAS error in ", #expr, ": ",              \
                cublasGetStatusName(nudge_status_), " (", cublasGetStatusString(nudge_status_), ")"); \
  } while (0)

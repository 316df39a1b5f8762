// The limits nudge is measured against, called directly: cudaMemcpy for bandwidth and a plain
// cuBLAS SGEMM for matmul. Built only with CUDA; without it the references report 0.
#include "bench_util.h"

#if defined(NUDGE_BENCH_CUDA)
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace bench {

namespace {
void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
}
void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string(what) + ": " + cublasGetStatusString(status));
}

/// Best of several timed runs of `work` on `stream` (after one warm-up), in seconds.
template <class Work> double best_seconds(cudaStream_t stream, int runs, Work work) {
  cudaEvent_t start, stop;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  work();
  double best = 1e30;
  for (int i = 0; i < runs; ++i) {
    check(cudaEventRecord(start, stream), "cudaEventRecord");
    work();
    check(cudaEventRecord(stop, stream), "cudaEventRecord");
    check(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    best = std::min(best, ms / 1e3);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return best;
}
}  // namespace

double cuda_memcpy_seconds(std::int64_t bytes) {
  void *src = nullptr, *dst = nullptr;
  check(cudaMalloc(&src, bytes), "cudaMalloc");
  check(cudaMalloc(&dst, bytes), "cudaMalloc");
  check(cudaMemset(src, 0, bytes), "cudaMemset");
  const double s = best_seconds(nullptr, 5, [&] {
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, nullptr), "cudaMemcpyAsync");
  });
  cudaFree(src);
  cudaFree(dst);
  return s;
}

double cublas_sgemm_seconds(std::int64_t m, std::int64_t n, std::int64_t k, bool tf32) {
  cublasHandle_t handle;
  check(cublasCreate(&handle), "cublasCreate");
  check(cublasSetMathMode(handle, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
  float *a = nullptr, *b = nullptr, *c = nullptr;
  check(cudaMalloc(&a, sizeof(float) * m * k), "cudaMalloc");
  check(cudaMalloc(&b, sizeof(float) * k * n), "cudaMalloc");
  check(cudaMalloc(&c, sizeof(float) * m * n), "cudaMalloc");
  check(cudaMemset(a, 0, sizeof(float) * m * k), "cudaMemset");
  check(cudaMemset(b, 0, sizeof(float) * k * n), "cudaMemset");
  const float alpha = 1, beta = 0;
  // Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ: the same call nudge makes.
  const double s = best_seconds(nullptr, 10, [&] {
    check(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, int(n), int(m), int(k), &alpha, b, int(n), a, int(k), &beta, c,
                      int(n)),
          "cublasSgemm");
  });
  cudaFree(a), cudaFree(b), cudaFree(c);
  cublasDestroy(handle);
  return s;
}

}  // namespace bench

#else

namespace bench {
double cuda_memcpy_seconds(std::int64_t) { return 0; }
double cublas_sgemm_seconds(std::int64_t, std::int64_t, std::int64_t, bool) { return 0; }
}  // namespace bench

#endif

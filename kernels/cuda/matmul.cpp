// CUDA GEMM through cuBLAS. cuBLAS is column-major; a row-major C = A·B is the column-major
// Cᵀ = Bᵀ·Aᵀ, so the operands are passed swapped, and a row-major matrix read column-major is
// already its transpose: no data is moved.
#include <climits>
#include <type_traits>

#include "core/cuda.h"

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/kernels.h"

namespace nudge::kernels::cuda {

namespace {

int blas_int(std::int64_t v, const char* what) {
  NUDGE_CHECK(v <= INT_MAX, "matmul: ", what, " = ", v, " exceeds cuBLAS's 32-bit integer range");
  return static_cast<int>(v);
}

cublasOperation_t op_of(const MatrixArg& m) { return m.transposed ? CUBLAS_OP_T : CUBLAS_OP_N; }

/// One GEMM (plain cuBLAS call, as a user would make it) or a strided batch of them.
template <class T, class Gemm, class BatchedGemm>
void gemm(int device, const MatmulCall& call, Gemm gemm_fn, BatchedGemm batched_fn) {
  DeviceGuard guard(device);
  DeviceContext& ctx = context(device);
  std::lock_guard lock(ctx.cublas_mutex);  // the math mode and the GEMM on one shared handle
  if constexpr (std::is_same_v<T, float>) {
    // TF32 tensor cores only when the user opted in (cuda::set_allow_tf32): ~10 mantissa bits.
    const cublasMath_t mode = ::nudge::cuda::allow_tf32() ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH;
    if (mode != ctx.math_mode) {
      NUDGE_CUBLAS_CHECK(cublasSetMathMode(ctx.cublas, mode));
      ctx.math_mode = mode;
    }
  }
  const T alpha = 1, beta = 0;
  if (call.batch == 1) {
    NUDGE_CUBLAS_CHECK(gemm_fn(ctx.cublas, op_of(call.b), op_of(call.a), blas_int(call.n, "n"), blas_int(call.m, "m"),
                               blas_int(call.k, "k"), &alpha, static_cast<const T*>(call.b.data),
                               blas_int(call.b.ld, "ldb"), static_cast<const T*>(call.a.data),
                               blas_int(call.a.ld, "lda"), &beta, static_cast<T*>(call.c), blas_int(call.n, "ldc")));
    profiling::count_gemm();
    return;
  }
  NUDGE_CUBLAS_CHECK(batched_fn(ctx.cublas, op_of(call.b), op_of(call.a), blas_int(call.n, "n"), blas_int(call.m, "m"),
                                blas_int(call.k, "k"), &alpha, static_cast<const T*>(call.b.data),
                                blas_int(call.b.ld, "ldb"), call.b.batch_stride, static_cast<const T*>(call.a.data),
                                blas_int(call.a.ld, "lda"), call.a.batch_stride, &beta, static_cast<T*>(call.c),
                                blas_int(call.n, "ldc"), call.m * call.n, blas_int(call.batch, "batch")));
  profiling::count_gemm();
}

}  // namespace

void matmul(int device, const MatmulCall& call) {
  visit_float_dtype(call.dtype, "matmul", [&](auto tag) {
    if constexpr (std::is_same_v<decltype(tag), float>)
      gemm<float>(device, call, cublasSgemm, cublasSgemmStridedBatched);
    else gemm<double>(device, call, cublasDgemm, cublasDgemmStridedBatched);
  });
}

}  // namespace nudge::kernels::cuda

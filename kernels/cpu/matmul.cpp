// CPU GEMM through CBLAS (OpenBLAS): row-major, transposed views passed as transpose flags.
#include <cblas.h>

#include <climits>
#include <cstring>

#include "core/error.h"
#include "kernels/cpu/kernels.h"

namespace nudge::kernels::cpu {

namespace {

int blas_int(std::int64_t v, const char* what) {
  NUDGE_CHECK(v <= INT_MAX, "matmul: ", what, " = ", v, " exceeds the BLAS 32-bit integer range");
  return static_cast<int>(v);
}

template <class T, class Gemm> void gemm_batches(const MatmulCall& call, Gemm gemm) {
  const int m = blas_int(call.m, "m"), n = blas_int(call.n, "n"), k = blas_int(call.k, "k");
  const int lda = blas_int(call.a.ld, "lda"), ldb = blas_int(call.b.ld, "ldb");
  const auto ta = call.a.transposed ? CblasTrans : CblasNoTrans, tb = call.b.transposed ? CblasTrans : CblasNoTrans;
  for (std::int64_t i = 0; i < call.batch; ++i) {
    const T* a = static_cast<const T*>(call.a.data) + i * call.a.batch_stride;
    const T* b = static_cast<const T*>(call.b.data) + i * call.b.batch_stride;
    T* c = static_cast<T*>(call.c) + i * call.m * call.n;
    gemm(CblasRowMajor, ta, tb, m, n, k, T(1), a, lda, b, ldb, T(0), c, n);
  }
}

}  // namespace

void matmul(int, const MatmulCall& call) {
  visit_float_dtype(call.dtype, "matmul", [&](auto tag) {
    if constexpr (std::is_same_v<decltype(tag), float>) gemm_batches<float>(call, cblas_sgemm);
    else gemm_batches<double>(call, cblas_dgemm);
  });
}

}  // namespace nudge::kernels::cpu

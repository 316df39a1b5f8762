// SLEEF's 1.0-ulp AVX2 functions (the ones PyTorch's CPU kernels use) over arrays. This file alone
// is compiled with -mavx2 -mfma, and it includes nothing but intrinsics and SLEEF: an inline
// function of a shared header compiled here with AVX2 could be the copy the linker keeps for
// every file, and then run on a CPU without AVX2.
#include "kernels/cpu/vector_math_avx2.h"

#include <immintrin.h>
#include <sleef.h>

namespace nudge::kernels::cpu::avx2 {

namespace {

// The lanes of a vector of each type, and its loads and stores.
struct F32 {
  using Scalar = float;
  using Vec = __m256;
  static constexpr int kLanes = 8;
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
};
struct F64 {
  using Scalar = double;
  using Vec = __m256d;
  static constexpr int kLanes = 4;
  static Vec load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, Vec v) { _mm256_storeu_pd(p, v); }
};

/// out[i] = f(in[i]): whole vectors, then the tail through a padded vector (its padding is zeros,
/// which every function here accepts; their results are dropped).
template <class V, class F> void apply(const typename V::Scalar* in, typename V::Scalar* out, std::int64_t n, F f) {
  std::int64_t i = 0;
  for (; i + V::kLanes <= n; i += V::kLanes) V::store(out + i, f(V::load(in + i)));
  if (i == n) return;
  alignas(32) typename V::Scalar tail[V::kLanes] = {};
  for (std::int64_t j = 0; i + j < n; ++j) tail[j] = in[i + j];
  V::store(tail, f(V::load(tail)));
  for (std::int64_t j = 0; i + j < n; ++j) out[i + j] = tail[j];
}

__m256 sigmoid8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 abs = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  const __m256 e = Sleef_expf8_u10avx2(_mm256_sub_ps(_mm256_setzero_ps(), abs));  // exp(-|x|) in (0, 1]
  // x >= 0: 1 / (1 + e); else e / (1 + e). One division; a NaN x makes e NaN, so the result too.
  const __m256 numerator = _mm256_blendv_ps(e, one, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ));
  return _mm256_div_ps(numerator, _mm256_add_ps(one, e));
}

__m256d sigmoid4(__m256d x) {
  const __m256d one = _mm256_set1_pd(1.0);
  const __m256d abs = _mm256_andnot_pd(_mm256_set1_pd(-0.0), x);
  const __m256d e = Sleef_expd4_u10avx2(_mm256_sub_pd(_mm256_setzero_pd(), abs));
  const __m256d numerator = _mm256_blendv_pd(e, one, _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_GE_OQ));
  return _mm256_div_pd(numerator, _mm256_add_pd(one, e));
}

// log1p(x) rounds to x itself below 2^-25 (float) and 2^-54 (double); SLEEF's loses subnormal x
// (log1p(4.9e-324) came back 0), so those lanes keep x.
__m256 log1p8(__m256 x) {
  const __m256 abs = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  return _mm256_blendv_ps(Sleef_log1pf8_u10avx2(x), x, _mm256_cmp_ps(abs, _mm256_set1_ps(0x1p-25f), _CMP_LT_OQ));
}

__m256d log1p4(__m256d x) {
  const __m256d abs = _mm256_andnot_pd(_mm256_set1_pd(-0.0), x);
  return _mm256_blendv_pd(Sleef_log1pd4_u10avx2(x), x, _mm256_cmp_pd(abs, _mm256_set1_pd(0x1p-54), _CMP_LT_OQ));
}

}  // namespace

void exp(const float* in, float* out, std::int64_t n) { apply<F32>(in, out, n, Sleef_expf8_u10avx2); }
void exp(const double* in, double* out, std::int64_t n) { apply<F64>(in, out, n, Sleef_expd4_u10avx2); }
void log(const float* in, float* out, std::int64_t n) { apply<F32>(in, out, n, Sleef_logf8_u10avx2); }
void log(const double* in, double* out, std::int64_t n) { apply<F64>(in, out, n, Sleef_logd4_u10avx2); }
void log1p(const float* in, float* out, std::int64_t n) { apply<F32>(in, out, n, log1p8); }
void log1p(const double* in, double* out, std::int64_t n) { apply<F64>(in, out, n, log1p4); }
void expm1(const float* in, float* out, std::int64_t n) { apply<F32>(in, out, n, Sleef_expm1f8_u10avx2); }
void expm1(const double* in, double* out, std::int64_t n) { apply<F64>(in, out, n, Sleef_expm1d4_u10avx2); }
void tanh(const float* in, float* out, std::int64_t n) { apply<F32>(in, out, n, Sleef_tanhf8_u10avx2); }
void tanh(const double* in, double* out, std::int64_t n) { apply<F64>(in, out, n, Sleef_tanhd4_u10avx2); }
void sigmoid(const float* in, float* out, std::int64_t n) { apply<F32>(in, out, n, sigmoid8); }
void sigmoid(const double* in, double* out, std::int64_t n) { apply<F64>(in, out, n, sigmoid4); }

}  // namespace nudge::kernels::cpu::avx2

#pragma once
/// Scalar math with float and double overloads that exist on the host and on the device (the
/// building blocks of kernels/unary_ops.h and kernels/functors.h).
#include <cmath>
#include <type_traits>

#if defined(__CUDACC__)
#define NUDGE_HD __host__ __device__ __forceinline__
#else
#define NUDGE_HD inline
#endif

namespace nudge::kernels::fn {

// Integer +, -, * and negation wrap modulo 2^64 as PyTorch's do; in C++ a signed overflow is
// undefined, so the arithmetic is done on the unsigned type (conversion back is modular in C++20).
template <class T> NUDGE_HD T add_(T a, T b) {
  if constexpr (std::is_integral_v<T>) return T(std::make_unsigned_t<T>(a) + std::make_unsigned_t<T>(b));
  else return a + b;
}
template <class T> NUDGE_HD T sub_(T a, T b) {
  if constexpr (std::is_integral_v<T>) return T(std::make_unsigned_t<T>(a) - std::make_unsigned_t<T>(b));
  else return a - b;
}
template <class T> NUDGE_HD T mul_(T a, T b) {
  if constexpr (std::is_integral_v<T>) return T(std::make_unsigned_t<T>(a) * std::make_unsigned_t<T>(b));
  else return a * b;
}
template <class T> NUDGE_HD T neg_(T x) {
  if constexpr (std::is_integral_v<T>) return sub_(T(0), x);
  else return -x;  // not 0 - x: -(+0) is -0
}

NUDGE_HD float exp_(float x) { return ::expf(x); }
NUDGE_HD double exp_(double x) { return ::exp(x); }
NUDGE_HD float log_(float x) { return ::logf(x); }
NUDGE_HD double log_(double x) { return ::log(x); }
NUDGE_HD float log1p_(float x) { return ::log1pf(x); }
NUDGE_HD double log1p_(double x) { return ::log1p(x); }
NUDGE_HD float expm1_(float x) { return ::expm1f(x); }
NUDGE_HD double expm1_(double x) { return ::expm1(x); }
NUDGE_HD float erf_(float x) { return ::erff(x); }
NUDGE_HD double erf_(double x) { return ::erf(x); }
NUDGE_HD float sin_(float x) { return ::sinf(x); }
NUDGE_HD double sin_(double x) { return ::sin(x); }
NUDGE_HD float cos_(float x) { return ::cosf(x); }
NUDGE_HD double cos_(double x) { return ::cos(x); }
NUDGE_HD float sqrt_(float x) { return ::sqrtf(x); }
NUDGE_HD double sqrt_(double x) { return ::sqrt(x); }
// float tanh through double: tanhf is up to 2 ulp off on both glibc and CUDA, the double result
// rounds to within 0.5 ulp (PyTorch's float tanh is within 1 ulp).
NUDGE_HD float tanh_(float x) { return static_cast<float>(::tanh(static_cast<double>(x))); }
NUDGE_HD double tanh_(double x) { return ::tanh(x); }
NUDGE_HD float pow_(float x, float e) { return ::powf(x, e); }
NUDGE_HD double pow_(double x, double e) { return ::pow(x, e); }
template <class T> NUDGE_HD bool isnan_(T x) {
  if constexpr (std::is_floating_point_v<T>) return x != x;
  else return false;
}

}  // namespace nudge::kernels::fn

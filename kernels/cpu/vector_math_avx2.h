#pragma once
/// Internal: SLEEF's AVX2 transcendental functions over contiguous arrays (vector_math_avx2.cpp,
/// the one file compiled for AVX2 + FMA). Call only where vector_math.cpp found those on the CPU.
#include <cstdint>

namespace nudge::kernels::cpu::avx2 {

void exp(const float* in, float* out, std::int64_t n);
void exp(const double* in, double* out, std::int64_t n);
void log(const float* in, float* out, std::int64_t n);
void log(const double* in, double* out, std::int64_t n);
void log1p(const float* in, float* out, std::int64_t n);
void log1p(const double* in, double* out, std::int64_t n);
void expm1(const float* in, float* out, std::int64_t n);
void expm1(const double* in, double* out, std::int64_t n);
void tanh(const float* in, float* out, std::int64_t n);
void tanh(const double* in, double* out, std::int64_t n);
/// 1 / (1 + exp(-x)), by exp of -|x| only (no overflow): e / (1 + e) for negative x.
void sigmoid(const float* in, float* out, std::int64_t n);
void sigmoid(const double* in, double* out, std::int64_t n);

}  // namespace nudge::kernels::cpu::avx2

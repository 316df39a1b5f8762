#pragma once
/// Vectorised exp, log, log1p, expm1, tanh and sigmoid for the CPU backend: SLEEF's AVX2 functions
/// (error bound 1.0 ulp, the functions PyTorch's CPU kernels use) on CPUs with AVX2 and FMA.
#include <cstdint>

#include "kernels/calls.h"

namespace nudge::kernels::cpu::vector_math {

/// Whether this CPU runs the vectorised functions (AVX2 and FMA, checked once).
bool available();

/// out[i] = op(in[i]) for i < n, contiguous float32 or float64. Returns false, having done nothing,
/// when `op` or `dtype` has no vectorised version or the CPU lacks AVX2: the caller loops itself.
bool unary(UnaryOp op, DType dtype, const void* in, void* out, std::int64_t n);

}  // namespace nudge::kernels::cpu::vector_math

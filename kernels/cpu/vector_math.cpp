#include "kernels/cpu/vector_math.h"

#include <cstdlib>

#ifdef NUDGE_WITH_SLEEF
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vector_math_avx2.h"
#endif

namespace nudge::kernels::cpu::vector_math {

#ifdef NUDGE_WITH_SLEEF

bool available() {
  // NUDGE_SCALAR_MATH=1 turns them off (for comparing against libm, or ruling them out).
  static const bool yes =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && std::getenv("NUDGE_SCALAR_MATH") == nullptr;
  return yes;
}

namespace {

bool vectorised(UnaryOp op) {
  return op == UnaryOp::Exp || op == UnaryOp::Log || op == UnaryOp::Log1p || op == UnaryOp::Expm1 ||
         op == UnaryOp::Tanh || op == UnaryOp::Sigmoid;
}

/// out = op(in) over n elements; `op` is one that vectorised() accepts.
template <class T> void run(UnaryOp op, const T* in, T* out, std::int64_t n) {
  if (op == UnaryOp::Exp) avx2::exp(in, out, n);
  else if (op == UnaryOp::Log) avx2::log(in, out, n);
  else if (op == UnaryOp::Log1p) avx2::log1p(in, out, n);
  else if (op == UnaryOp::Expm1) avx2::expm1(in, out, n);
  else if (op == UnaryOp::Tanh) avx2::tanh(in, out, n);
  else avx2::sigmoid(in, out, n);
}

template <class T> void run_parallel(UnaryOp op, const void* in, void* out, std::int64_t n) {
  const auto* x = static_cast<const T*>(in);
  auto* y = static_cast<T*>(out);
  parallel_for(n, [&](std::int64_t begin, std::int64_t end) { run(op, x + begin, y + begin, end - begin); });
}

}  // namespace

bool unary(UnaryOp op, DType dtype, const void* in, void* out, std::int64_t n) {
  if (!available() || !vectorised(op)) return false;
  if (dtype == DType::Float32) run_parallel<float>(op, in, out, n);
  else if (dtype == DType::Float64) run_parallel<double>(op, in, out, n);
  else return false;
  return true;
}

#else  // built without SLEEF (Debian: libsleef-dev): the scalar loops everywhere

bool available() { return false; }
bool unary(UnaryOp, DType, const void*, void*, std::int64_t) { return false; }

#endif

}  // namespace nudge::kernels::cpu::vector_math

// CPU elementwise kernels: the functors of kernels/functors.h run through kernels/cpu/loops.h.
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/vector_math.h"

namespace nudge::kernels::cpu {

void unary(int, const UnaryCall& call) {
  // exp, log, tanh, sigmoid ... of contiguous floats: SLEEF's vectorised functions, where the CPU has them.
  if (call.loop.contiguous &&
      vector_math::unary(call.op, call.dtype, call.loop.data[1], call.loop.data[0], call.loop.numel))
    return;
  visit_numeric_dtype(call.dtype, unary_name(call.op), [&](auto tag) {
    using T = decltype(tag);
    fn::visit_unary<T>(call.op, call.scalar, [&](auto f) { map_unary<T, T>(call.loop, f); });
  });
}

void binary(int, const BinaryCall& call) {
  visit_numeric_dtype(call.dtype, "binary op", [&](auto tag) {
    using T = decltype(tag);
    fn::visit_binary<T>(call.op, [&](auto f) { map_binary<T>(call.loop, f); });
  });
}

void binary_scalar(int, const BinaryScalarCall& call) {
  visit_numeric_dtype(call.dtype, "binary op", [&](auto tag) {
    using T = decltype(tag);
    fn::visit_binary_scalar<T>(call.op, call.scalar, call.scalar_first, [&](auto f) { map_unary<T, T>(call.loop, f); });
  });
}

void compare(int, const CompareCall& call) {
  visit_dtype(call.dtype, [&](auto tag) {
    using T = decltype(tag);
    fn::visit_compare(call.op, [&](auto f) { map_binary<T, decltype(f), bool>(call.loop, f); });
  });
}

void compare_scalar(int, const CompareScalarCall& call) {
  visit_dtype(call.dtype, [&](auto tag) {
    using T = decltype(tag);
    fn::visit_compare_scalar<T>(call.op, call.scalar, [&](auto f) { map_unary<bool, T>(call.loop, f); });
  });
}

void copy(int, const CopyCall& call) {
  visit_dtype(call.dst_dtype, [&](auto dst_tag) {
    using To = decltype(dst_tag);
    visit_dtype(call.src_dtype, [&](auto src_tag) { map_unary<To, decltype(src_tag)>(call.loop, fn::Cast<To>{}); });
  });
}

void fill(int, const FillCall& call) {
  visit_dtype(call.dtype, [&](auto tag) { fill_values(call.loop, call.value.to<decltype(tag)>()); });
}

}  // namespace nudge::kernels::cpu

// Multi-tensor optimizer steps on the CPU: every parameter in one call, one pass over each.
#include "kernels/cpu/kernels.h"
#include "kernels/functors.h"

namespace nudge::kernels::cpu {

namespace {

// The call and slot are copied into locals so the compiler sees the rule's options as loop
// invariants: it hoists their branches out of the loop and vectorises what is left.
template <class T> void sgd_impl(const SgdStepCall& call) {
  const SgdStepCall c = call;
  for (std::int64_t k = 0; k < c.count; ++k) {
    const ParamSlot s = c.slots[k];
    T* __restrict p = static_cast<T*>(s.param);
    const T* __restrict g = static_cast<const T*>(s.grad);
    T* __restrict buf = static_cast<T*>(s.state1);
    const fn::SlotScalars scalars = fn::sgd_scalars(c, s);
    if (buf) {
      for (std::int64_t i = 0; i < s.numel; ++i) fn::sgd_update(p[i], g[i], buf[i], c, s, scalars);
    } else {
      for (std::int64_t i = 0; i < s.numel; ++i) {
        T unused = 0;
        fn::sgd_update(p[i], g[i], unused, c, s, scalars);
      }
    }
  }
}

template <class T> void adam_impl(const AdamStepCall& call) {
  const AdamStepCall c = call;
  for (std::int64_t k = 0; k < c.count; ++k) {
    const ParamSlot s = c.slots[k];
    T* __restrict p = static_cast<T*>(s.param);
    const T* __restrict g = static_cast<const T*>(s.grad);
    T* __restrict m = static_cast<T*>(s.state1);
    T* __restrict v = static_cast<T*>(s.state2);
    const fn::SlotScalars scalars = fn::adam_scalars(c, s);
    for (std::int64_t i = 0; i < s.numel; ++i) fn::adam_update(p[i], g[i], m[i], v[i], c, scalars);
    *s.step += 1;
  }
}

}  // namespace

void sgd_step(int, const SgdStepCall& call) {
  visit_float_dtype(call.dtype, "SGD", [&](auto tag) {
    using T = decltype(tag);
    sgd_impl<T>(call);
  });
}

void adam_step(int, const AdamStepCall& call) {
  visit_float_dtype(call.dtype, "Adam", [&](auto tag) {
    using T = decltype(tag);
    adam_impl<T>(call);
  });
}

}  // namespace nudge::kernels::cpu

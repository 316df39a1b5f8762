// Multi-tensor optimizer steps on the CPU: every parameter in one call, one pass over each.
#include "kernels/cpu/kernels.h"
#include "kernels/functors.h"

namespace nudge::cpu {

namespace {

template <class T>
void sgd_impl(const SgdStepCall& call) {
  for (std::int64_t k = 0; k < call.count; ++k) {
    const ParamSlot& s = call.slots[k];
    T* p = static_cast<T*>(s.param);
    const T* g = static_cast<const T*>(s.grad);
    T* buf = static_cast<T*>(s.state1);
    T unused = 0;
    for (std::int64_t i = 0; i < s.numel; ++i) fn::sgd_update(p[i], g[i], buf ? buf[i] : unused, call, s);
  }
}

template <class T>
void adam_impl(const AdamStepCall& call) {
  for (std::int64_t k = 0; k < call.count; ++k) {
    const ParamSlot& s = call.slots[k];
    T* p = static_cast<T*>(s.param);
    const T* g = static_cast<const T*>(s.grad);
    T* m = static_cast<T*>(s.state1);
    T* v = static_cast<T*>(s.state2);
    for (std::int64_t i = 0; i < s.numel; ++i) fn::adam_update(p[i], g[i], m[i], v[i], call, s);
  }
}

}  // namespace

void sgd_step(int, const SgdStepCall& call) {
  switch (call.dtype) {
    case DType::Float32: return sgd_impl<float>(call);
    case DType::Float64: return sgd_impl<double>(call);
    case DType::Int64: break;
  }
  NUDGE_FAIL("SGD: int64 parameters are not supported");
}

void adam_step(int, const AdamStepCall& call) {
  switch (call.dtype) {
    case DType::Float32: return adam_impl<float>(call);
    case DType::Float64: return adam_impl<double>(call);
    case DType::Int64: break;
  }
  NUDGE_FAIL("Adam: int64 parameters are not supported");
}

}  // namespace nudge::cpu

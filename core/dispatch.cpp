#include "core/dispatch.h"

#include <mutex>
#include <type_traits>

#include "core/error.h"
#include "core/profiling.h"

namespace nudge::dispatch {

Table<UnaryFn> unary;
Table<BinaryFn> binary;
Table<BinaryScalarFn> binary_scalar;
Table<CopyFn> copy;
Table<FillFn> fill;
Table<ReduceFn> reduce;
Table<MatmulFn> matmul;
Table<BiasActivationFn> bias_activation;
Table<ActivationBackwardFn> activation_backward;
Table<SgdStepFn> sgd_step;
Table<AdamStepFn> adam_step;
Table<LossFn> loss;

namespace {
std::array<DeviceRuntime, kNumDeviceTypes> runtimes{};
std::array<bool, kNumDeviceTypes> runtime_set{};

const char* device_type_name(DeviceType t) { return t == DeviceType::CPU ? "CPU" : "CUDA"; }
}  // namespace

void ensure_kernels_registered() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_cpu_kernels();
#ifdef NUDGE_WITH_CUDA
    register_cuda_kernels();
#endif
  });
}

template <class Fn>
Fn Table<Fn>::get(Device device, const char* what) const {
  ensure_kernels_registered();
  Fn fn = fns_[static_cast<int>(device.type())];
  NUDGE_CHECK(fn != nullptr, what, ": not implemented for ", device_type_name(device.type()));
  // A CPU backend call is one pass over the data (CUDA counts its launches where it makes them).
  if (device.is_cpu()) {
    if constexpr (std::is_same_v<Fn, MatmulFn>) profiling::count_gemm();
    else profiling::count_kernel();
  }
  return fn;
}

template class Table<UnaryFn>;
template class Table<BinaryFn>;
template class Table<BinaryScalarFn>;
template class Table<CopyFn>;
template class Table<FillFn>;
template class Table<ReduceFn>;
template class Table<MatmulFn>;
template class Table<BiasActivationFn>;
template class Table<ActivationBackwardFn>;
template class Table<SgdStepFn>;
template class Table<AdamStepFn>;
template class Table<LossFn>;

void install(DeviceType type, const KernelSet& k) {
  runtimes[static_cast<int>(type)] = k.runtime;
  runtime_set[static_cast<int>(type)] = true;
  unary.set(type, k.unary);
  binary.set(type, k.binary);
  binary_scalar.set(type, k.binary_scalar);
  copy.set(type, k.copy);
  fill.set(type, k.fill);
  reduce.set(type, k.reduce);
  matmul.set(type, k.matmul);
  bias_activation.set(type, k.bias_activation);
  activation_backward.set(type, k.activation_backward);
  sgd_step.set(type, k.sgd_step);
  adam_step.set(type, k.adam_step);
  loss.set(type, k.loss);
}

const DeviceRuntime* runtime_if_built(DeviceType type) {
  ensure_kernels_registered();
  return runtime_set[static_cast<int>(type)] ? &runtimes[static_cast<int>(type)] : nullptr;
}

const DeviceRuntime& runtime(Device device) {
  const DeviceRuntime* rt = runtime_if_built(device.type());
  NUDGE_CHECK(rt != nullptr, "device ", device, " requested, but nudge was built without CUDA (NUDGE_CUDA=OFF)");
  if (device.is_cuda()) {
    std::string why;
    const int count = rt->device_count(&why);
    NUDGE_CHECK(count > 0, "device ", device, " requested, but no CUDA device is available: ", why);
    NUDGE_CHECK(device.index() < count, "device ", device, " requested, but only ", count,
                " CUDA device(s) are available (cuda:0..cuda:", count - 1, ")");
  }
  return *rt;
}

}  // namespace nudge::dispatch

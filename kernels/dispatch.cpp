#include "kernels/dispatch.h"

#include <atomic>
#include <mutex>
#include <type_traits>

#include "core/error.h"
#include "core/profiling.h"
#include "kernels/recording.h"

namespace nudge::kernels::dispatch {

#define NUDGE_DEFINE_TABLE(name, Call) Table<KernelFn<Call>> name;
NUDGE_OP_FAMILIES(NUDGE_DEFINE_TABLE)
#undef NUDGE_DEFINE_TABLE

namespace {
std::array<DeviceRuntime, kNumDeviceTypes> runtimes{};
std::array<bool, kNumDeviceTypes> runtime_set{};

const char* device_type_name(DeviceType t) { return t == DeviceType::CPU ? "CPU" : "CUDA"; }
}  // namespace

void ensure_kernels_registered() {
  // Checked on every op: a plain acquire load once the tables are filled.
  static std::atomic<bool> registered{false};
  if (registered.load(std::memory_order_acquire)) [[likely]]
    return;
  static std::once_flag once;
  std::call_once(once, [] {
    register_cpu_kernels();
#ifdef NUDGE_WITH_CUDA
    register_cuda_kernels();
#endif
    registered.store(true, std::memory_order_release);
  });
}

template <class Fn> Fn Table<Fn>::get(Device device, const char* what) const {
  ensure_kernels_registered();
  Fn fn = fns_[static_cast<int>(device.type())];
  NUDGE_CHECK(fn != nullptr, what, ": not implemented for ", device_type_name(device.type()));
  // A CPU backend call is one pass over the data (CUDA counts its launches where it makes them).
  if (device.is_cpu()) {
    if constexpr (std::is_same_v<Fn, KernelFn<MatmulCall>>) profiling::count_gemm();
    else profiling::count_kernel();
  }
  return fn;
}

template <class Fn> void Table<Fn>::run(Device device, const char* what, const typename CallOf<Fn>::type& call) const {
  const Fn fn = get(device, what);
  if (CallRecording* recording = active_recording()) [[unlikely]] {
    // A CPU graph replays only what it recorded: work on another device would silently be missing.
    NUDGE_CHECK(device.is_cpu(), what, ": a Graph capturing CPU work cannot also run work on ", device,
                " (capture the step on one device)");
    recording->add(fn, call);
    return;
  }
  fn(device.index(), call);
}

#define NUDGE_INSTANTIATE_TABLE(name, Call) template class Table<KernelFn<Call>>;
NUDGE_OP_FAMILIES(NUDGE_INSTANTIATE_TABLE)
#undef NUDGE_INSTANTIATE_TABLE

void install(DeviceType type, const KernelSet& k) {
  runtimes[static_cast<int>(type)] = k.runtime;
  runtime_set[static_cast<int>(type)] = true;
#define NUDGE_INSTALL(name, Call) name.set(type, k.name);
  NUDGE_OP_FAMILIES(NUDGE_INSTALL)
#undef NUDGE_INSTALL
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

}  // namespace nudge::kernels::dispatch

#include "kernels/dispatch.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>

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
    registered.store(true, std::memory_order_release);
  });
}

namespace {

/// Why the CUDA backend is absent; set once, by ensure_backend().
std::string cuda_missing_reason = "nudge was built without CUDA (NUDGE_CUDA=OFF)";

#ifdef NUDGE_WITH_CUDA
/// Whether the CUDA backend is worth loading: a GPU the driver exposes has a device file
/// (/dev/nvidiactl; /dev/dxg under WSL 2). Without one no CUDA call could succeed, and asking the
/// CUDA runtime would cost its ~200 MB to learn that. NUDGE_LOAD_CUDA=1 loads the backend anyway
/// (the tests use it to exercise loading on machines without a GPU).
bool cuda_worth_loading() {
  const char* force = std::getenv("NUDGE_LOAD_CUDA");
  if (force != nullptr && std::string(force) == "1") return true;
  return ::access("/dev/nvidiactl", F_OK) == 0 || ::access("/dev/dxg", F_OK) == 0;
}

/// The CUDA backend is its own library, libnudge_cuda.so beside libnudge, loaded on first CUDA
/// use: the CUDA runtime and cuBLAS it brings cost ~200 MB of resident memory and ~70 ms at start,
/// which a CPU program of a CUDA build (a sweep of small processes, one MPI rank per core) should
/// not pay.
void load_cuda_backend() {
  Dl_info self{};
  if (dladdr(reinterpret_cast<void*>(&load_cuda_backend), &self) == 0 || self.dli_fname == nullptr) {
    cuda_missing_reason = "the CUDA backend could not be found: dladdr cannot name libnudge's own file";
    return;
  }
  const std::string own = self.dli_fname;
  const std::string path = own.substr(0, own.find_last_of('/') + 1) + "libnudge_cuda.so";
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    cuda_missing_reason = "the CUDA backend " + path + " could not be loaded: " + (why ? why : "unknown error");
    return;
  }
  auto* register_backend = reinterpret_cast<void (*)()>(dlsym(handle, "nudge_register_cuda_backend"));
  auto* abi = reinterpret_cast<std::uint64_t (*)()>(dlsym(handle, "nudge_cuda_backend_abi"));
  if (register_backend == nullptr || abi == nullptr) {
    cuda_missing_reason = "the CUDA backend " + path +
                          " lacks nudge_register_cuda_backend or nudge_cuda_backend_abi "
                          "(a stale build?)";
    return;
  }
  if (abi() != dispatch::backend_abi()) {
    cuda_missing_reason = "the CUDA backend " + path + " was built for another libnudge (interface " +
                          std::to_string(abi()) + ", this libnudge has " + std::to_string(dispatch::backend_abi()) +
                          "): install libnudge and libnudge_cuda.so from one build";
    dlclose(handle);
    return;
  }
  register_backend();  // fills the CUDA slots through install(); the library stays loaded
  cuda_missing_reason.clear();
}
#endif

/// Makes sure the backend of `type` was given its chance to register (CUDA: loaded, on first use).
void ensure_backend(DeviceType type) {
  ensure_kernels_registered();
  if (type == DeviceType::CPU) return;
  static std::atomic<bool> tried{false};
  if (tried.load(std::memory_order_acquire)) [[likely]]
    return;
  static std::once_flag once;
  std::call_once(once, [] {
#ifdef NUDGE_WITH_CUDA
    if (cuda_worth_loading()) load_cuda_backend();
    else cuda_missing_reason = "no CUDA device is available: this machine has no NVIDIA device file (/dev/nvidiactl)";
#endif
    tried.store(true, std::memory_order_release);
  });
}

}  // namespace

template <class Fn> Fn Table<Fn>::get(Device device, const char* what) const {
  ensure_backend(device.type());
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
  ensure_backend(type);
  return runtime_set[static_cast<int>(type)] ? &runtimes[static_cast<int>(type)] : nullptr;
}

std::string missing_backend_reason(DeviceType type) {
  ensure_backend(type);
  return type == DeviceType::CPU ? std::string() : cuda_missing_reason;
}

const DeviceRuntime& runtime(Device device) {
  const DeviceRuntime* rt = runtime_if_built(device.type());
  NUDGE_CHECK(rt != nullptr, "device ", device, " requested, but ", missing_backend_reason(device.type()));
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

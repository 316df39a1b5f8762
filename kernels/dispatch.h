#pragma once
/// The backend boundary. One function table per op family, indexed by device type (PyTorch's
/// DispatchStub, simplified): core/ops*.cpp check arguments, allocate outputs and call
/// `dispatch::<family>.run(device, what, call)`; each backend fills its slots once, on first use,
/// in its register.cpp. An empty slot throws "<op>: not implemented for CUDA", never crashes.
///
/// The op families are listed ONCE, in NUDGE_OP_FAMILIES below: the tables, each backend's
/// declarations (kernels/<backend>/kernels.h) and its registration are generated from the list, so
/// a new family is one line here plus one function per backend. Internal: not installed, and not
/// on the include path of nn/, optim/, data/, monitor/, serialization/ or examples/.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/device.h"
#include "kernels/calls.h"

/// X(name, Call): every op family and the plain-data call it takes (kernels/calls.h).
#define NUDGE_OP_FAMILIES(X)                     \
  X(unary, UnaryCall)                            \
  X(binary, BinaryCall)                          \
  X(binary_scalar, BinaryScalarCall)             \
  X(compare, CompareCall)                        \
  X(compare_scalar, CompareScalarCall)           \
  X(copy, CopyCall)                              \
  X(fill, FillCall)                              \
  X(reduce, ReduceCall)                          \
  X(matmul, MatmulCall)                          \
  X(bias_activation, BiasActivationCall)         \
  X(activation_backward, ActivationBackwardCall) \
  X(sgd_step, SgdStepCall)                       \
  X(adam_step, AdamStepCall)                     \
  X(loss, LossCall)                              \
  X(index, IndexCall)                            \
  X(where, WhereCall)                            \
  X(window, WindowCall)

/// Declares `void name(int device_index, const Call& call);` for every family (a backend's
/// kernels.h expands it inside its namespace).
#define NUDGE_DECLARE_KERNEL(name, Call) void name(int device_index, const Call& call);

namespace nudge::kernels {

/// Memory and copies for one device type.
struct DeviceRuntime {
  /// Number of usable devices; on 0, `why_none` says why (no driver, no GPU, ...).
  int (*device_count)(std::string* why_none) = nullptr;
  void* (*allocate)(int index, std::size_t nbytes) = nullptr;
  void (*deallocate)(int index, void* ptr, std::size_t nbytes) noexcept = nullptr;
  /// Copies `nbytes` of contiguous memory; at least one side is this runtime's device type.
  void (*copy_bytes)(void* dst, Device dst_device, const void* src, Device src_device, std::size_t nbytes) = nullptr;
  /// CPU only: the BLAS thread count (core/threads.h).
  void (*set_threads)(int threads) = nullptr;
  int (*get_threads)() = nullptr;
  /// Waits until all work queued on the device is done.
  void (*synchronize)(int index) = nullptr;
  /// Bytes the device could still allocate (its cached free blocks given back first); 0 on the CPU.
  std::size_t (*free_memory)(int index) = nullptr;
  /// Bytes the device's memory pool holds from the driver (in use or cached for reuse); 0 on the CPU.
  std::size_t (*memory_reserved)(int index) = nullptr;
  /// Gives the pool's cached free blocks back to the driver.
  void (*empty_cache)(int index) = nullptr;

  // ---- optional (null on the CPU): page-locked host memory, asynchronous copies, events ----
  /// Page-locked host memory, which a device can read while the host goes on.
  void* (*allocate_pinned)(std::size_t nbytes) = nullptr;
  void (*deallocate_pinned)(void* ptr) noexcept = nullptr;
  /// copy_bytes without waiting: the host side must be pinned and stay untouched until an event
  /// recorded after the copy has completed.
  void (*copy_bytes_async)(void* dst, Device dst_device, const void* src, Device src_device,
                           std::size_t nbytes) = nullptr;
  /// A marker in device `index`'s queue: created, recorded, waited for, timed, destroyed.
  void* (*event_create)() = nullptr;
  void (*event_destroy)(void* event) noexcept = nullptr;
  void (*event_record)(void* event, int index) = nullptr;
  void (*event_synchronize)(void* event) = nullptr;
  float (*event_elapsed_ms)(void* start, void* end) = nullptr;

  // ---- optional (null on the CPU): graphs of captured work (core/cuda_graph.h) ----
  /// Starts recording device `index`'s queue; allocations go to the graph's own pool meanwhile.
  void (*capture_begin)(int index) = nullptr;
  /// Ends the recording and returns the instantiated graph; with `abort`, discards it (nullptr).
  void* (*capture_end)(int index, bool abort) = nullptr;
  void (*graph_replay)(void* graph) = nullptr;
  void (*graph_destroy)(void* graph) noexcept = nullptr;
  bool (*is_capturing)(int index) = nullptr;
  /// The queue nudge's work on device `index` goes to (a cudaStream_t), for libraries that must
  /// order their own device work with it (NCCL).
  void* (*stream)(int index) = nullptr;
  /// Makes `index` the calling thread's current device (CUDA: cudaSetDevice, once per rank).
  void (*set_device)(int index) = nullptr;
  /// Whether `index` has an active primary context in this process, asked without creating one.
  bool (*has_primary_context)(int index) noexcept = nullptr;
};

namespace dispatch {

/// A backend's entry point for the calls of type Call.
template <class Call> using KernelFn = void (*)(int device_index, const Call&);
template <class Fn> struct CallOf;
template <class Call> struct CallOf<KernelFn<Call>> { using type = Call; };

template <class Fn> class Table {
 public:
  /// Returns the kernel for `device`, or throws "<what>: not implemented for CUDA".
  Fn get(Device device, const char* what) const;
  /// Runs `call` on `device`, or appends it to this thread's CPU graph recording
  /// (kernels/recording.h) while one is active; `what` names the op in errors.
  void run(Device device, const char* what, const typename CallOf<Fn>::type& call) const;
  void set(DeviceType type, Fn fn) { fns_[static_cast<int>(type)] = fn; }

 private:
  std::array<Fn, kNumDeviceTypes> fns_{};
};

#define NUDGE_DECLARE_TABLE(name, Call) extern Table<KernelFn<Call>> name;
NUDGE_OP_FAMILIES(NUDGE_DECLARE_TABLE)
#undef NUDGE_DECLARE_TABLE

/// Everything one backend provides; a backend hands it to install() once.
struct KernelSet {
  DeviceRuntime runtime;
#define NUDGE_KERNEL_SET_FIELD(name, Call) KernelFn<Call> name = nullptr;
  NUDGE_OP_FAMILIES(NUDGE_KERNEL_SET_FIELD)
#undef NUDGE_KERNEL_SET_FIELD
};
void install(DeviceType type, const KernelSet& kernels);

/// The interface between libnudge and its CUDA module: a module reports the number it was built
/// with (nudge_cuda_backend_abi) and is loaded only when libnudge has the same, so a module left
/// from another build cannot fill the tables with functions of another layout. The revision is
/// raised by hand when a call's meaning changes; the sizes catch a change of layout.
inline constexpr std::uint64_t kBackendInterfaceRevision = 3;
constexpr std::uint64_t backend_abi() {
  return (kBackendInterfaceRevision << 40) | (std::uint64_t{sizeof(DeviceRuntime)} << 20) | sizeof(KernelSet);
}

/// The memory runtime of a device type; throws when that backend is absent or has no device.
const DeviceRuntime& runtime(Device device);
/// The runtime slot of a device type, or nullptr when that backend was not built or could not be
/// loaded (the CUDA backend is loaded on the first call that asks for it).
const DeviceRuntime* runtime_if_built(DeviceType type);
/// Why runtime_if_built(type) is null ("nudge was built without CUDA (NUDGE_CUDA=OFF)", or why
/// libnudge_cuda.so could not be loaded); empty when the backend is there.
std::string missing_backend_reason(DeviceType type);

/// Fills the CPU slots of every table (idempotent, thread-safe). Called by the tables themselves;
/// the CUDA slots are filled when the CUDA backend is first asked for.
void ensure_kernels_registered();

}  // namespace dispatch

/// Defined by kernels/cpu and kernels/cuda (register.cpp). The CPU one is called by
/// ensure_kernels_registered(); the CUDA one lives in libnudge_cuda.so, whose exported
/// `nudge_register_cuda_backend` calls it when core loads that library.
void register_cpu_kernels();
void register_cuda_kernels();

}  // namespace nudge::kernels

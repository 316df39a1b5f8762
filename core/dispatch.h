#pragma once
/// One function table per op family, indexed by device type (PyTorch's DispatchStub,
/// simplified). core/ops*.cpp check arguments, allocate outputs and call `table.get(device)`;
/// backends fill their slots in register_cpu_kernels() / register_cuda_kernels(), called once
/// on first use. An empty slot throws "<op>: not implemented for CUDA", never crashes.
#include <array>
#include <cstddef>
#include <string>

#include "core/device.h"
#include "core/kernel_args.h"

namespace nudge {

/// Memory and copies for one device type.
struct DeviceRuntime {
  /// Number of usable devices; on 0, `why_none` says why (no driver, no GPU, ...).
  int (*device_count)(std::string* why_none) = nullptr;
  void* (*allocate)(int index, std::size_t nbytes) = nullptr;
  void (*deallocate)(int index, void* ptr, std::size_t nbytes) noexcept = nullptr;
  /// Copies `nbytes` of contiguous memory; at least one side is this runtime's device type.
  void (*copy_bytes)(void* dst, Device dst_device, const void* src, Device src_device, std::size_t nbytes) = nullptr;
  /// Waits until all work queued on the device is done.
  void (*synchronize)(int index) = nullptr;
  /// Bytes the device could still allocate (its cached free blocks given back first); 0 on the CPU.
  std::size_t (*free_memory)(int index) = nullptr;

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
};

namespace dispatch {

template <class Fn>
class Table {
 public:
  /// Returns the kernel for `device`, or throws "<what>: not implemented for CUDA".
  Fn get(Device device, const char* what) const;
  void set(DeviceType type, Fn fn) { fns_[static_cast<int>(type)] = fn; }

 private:
  std::array<Fn, kNumDeviceTypes> fns_{};
};

using UnaryFn = void (*)(int device_index, const UnaryCall&);
using BinaryFn = void (*)(int device_index, const BinaryCall&);
using BinaryScalarFn = void (*)(int device_index, const BinaryScalarCall&);
using CopyFn = void (*)(int device_index, const CopyCall&);
using FillFn = void (*)(int device_index, const FillCall&);
using ReduceFn = void (*)(int device_index, const ReduceCall&);
using MatmulFn = void (*)(int device_index, const MatmulCall&);
using BiasActivationFn = void (*)(int device_index, const BiasActivationCall&);
using ActivationBackwardFn = void (*)(int device_index, const ActivationBackwardCall&);
using SgdStepFn = void (*)(int device_index, const SgdStepCall&);
using AdamStepFn = void (*)(int device_index, const AdamStepCall&);
using LossFn = void (*)(int device_index, const LossCall&);

extern Table<UnaryFn> unary;
extern Table<BinaryFn> binary;
extern Table<BinaryScalarFn> binary_scalar;
extern Table<CopyFn> copy;
extern Table<FillFn> fill;
extern Table<ReduceFn> reduce;
extern Table<MatmulFn> matmul;
extern Table<BiasActivationFn> bias_activation;
extern Table<ActivationBackwardFn> activation_backward;
extern Table<SgdStepFn> sgd_step;
extern Table<AdamStepFn> adam_step;
extern Table<LossFn> loss;

/// Everything one backend provides; a backend hands it to install() once.
struct KernelSet {
  DeviceRuntime runtime;
  UnaryFn unary;
  BinaryFn binary;
  BinaryScalarFn binary_scalar;
  CopyFn copy;
  FillFn fill;
  ReduceFn reduce;
  MatmulFn matmul;
  BiasActivationFn bias_activation;
  ActivationBackwardFn activation_backward;
  SgdStepFn sgd_step;
  AdamStepFn adam_step;
  LossFn loss;
};
void install(DeviceType type, const KernelSet& kernels);

/// The memory runtime of a device type; throws when that backend is absent or has no device.
const DeviceRuntime& runtime(Device device);
/// The runtime slot of a device type, or nullptr when that backend was not built.
const DeviceRuntime* runtime_if_built(DeviceType type);

/// Fills every table (idempotent, thread-safe). Called by the tables themselves.
void ensure_kernels_registered();

}  // namespace dispatch

/// Defined by kernels/cpu and kernels/cuda; called once by ensure_kernels_registered().
void register_cpu_kernels();
void register_cuda_kernels();

}  // namespace nudge

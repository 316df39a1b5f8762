#pragma once
/// CUDA availability, synchronisation and events, usable without CUDA headers.
#include <cstddef>
#include <string>

namespace nudge::cuda {

/// True when nudge was built with CUDA and at least one device is usable.
bool is_available();
/// Number of usable CUDA devices (0 in a CPU-only build or without a GPU).
int device_count();
/// Why is_available() is false ("" when it is true).
std::string unavailable_reason();
/// Lets float32 matmuls use TF32 tensor cores (faster, ~10 mantissa bits of the inputs; off by
/// default, as in PyTorch). Applies to every later matmul on every device.
void set_allow_tf32(bool allow);
bool allow_tf32();
/// Bytes cuda:`device` could still allocate, after nudge's cached free blocks are given back to
/// the driver (0 without CUDA). For sizing work to the card, e.g. tests of very large tensors.
std::size_t free_memory(int device = 0);
/// Bytes nudge's memory pool on cuda:`device` holds from the driver: tensors' memory and the freed
/// blocks it keeps for reuse (PyTorch's torch.cuda.memory_reserved; 0 without CUDA).
std::size_t memory_reserved(int device = 0);
/// Gives the freed blocks nudge keeps for reuse on cuda:`device` back to the driver, after the
/// device's queued work (torch.cuda.empty_cache), for other libraries or processes on that GPU.
void empty_cache(int device = 0);
/// Makes cuda:`device` the calling thread's current CUDA device, for code beside nudge that uses
/// the current device (NCCL, a custom kernel). nudge's own ops choose their device from their
/// tensors and never leave a device current that the thread did not use (no stray context on
/// GPU 0). distributed::Environment::device() calls it once for the rank's GPU.
void set_device(int device);
/// Whether cuda:`device` has an active primary context in this process, found without creating
/// one (false without CUDA): e.g. to check that work on cuda:1 left GPU 0 untouched.
bool has_primary_context(int device);
/// Waits for all nudge work queued on `device`.
void synchronize(int device = 0);
/// The CUDA stream (a cudaStream_t) nudge queues `device`'s work on, in order: a library that
/// launches its own device work on it (NCCL in nudge::distributed) is ordered with nudge's ops.
void* stream(int device = 0);

/// A marker in a device's queue of nudge work (a cudaEvent_t): record it after some work, then
/// wait for that work (synchronize) or time it (elapsed_ms between two recorded events).
class Event {
 public:
  Event();
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  /// Marks the current end of `device`'s queue.
  void record(int device = 0);
  /// Blocks until the work before the last record() has finished (returns at once if never recorded).
  void synchronize();
  /// Milliseconds of device time from `start`'s record to this event's (both must have completed).
  float elapsed_ms(const Event& start) const;

 private:
  void* event_ = nullptr;
  bool recorded_ = false;
};

}  // namespace nudge::cuda

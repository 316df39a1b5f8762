#pragma once
/// Graphs: a whole training step recorded once and replayed many times, for small networks whose
/// steps cost more in per-op overhead (dispatch, allocation, autograd bookkeeping, kernel launches)
/// than in arithmetic. One API on every device:
///
///     Graph graph(device);              // Device::cpu() or Device::cuda(0)
///     sgd.step();                       // one eager step first: optimizer state exists
///     Tensor loss;
///     graph.capture([&] {
///       sgd.zero_grad();
///       loss = nn::mse_loss(model(x_static), y_static);
///       loss.backward();
///       sgd.step();
///     });
///     for (...) { x_static.copy_(batch); graph.replay(); }   // loss holds each replay's value
///
/// Capturing records, it does not run: replay() runs the step. On CUDA the step's kernels are
/// recorded by stream capture and replayed with one launch; on the CPU the backend calls the step
/// makes (plain-data descriptions of each kernel, kernels/calls.h) are recorded and replay runs
/// that list: no allocation, no autograd, no argument checks, no dispatch.
///
/// Every replay uses the same memory: tensors created during the capture (the loss, gradients)
/// are overwritten by each replay and stay valid after the graph is gone; new data is fed by
/// copying into tensors created before the capture. Numbers the host knew at capture time are
/// frozen into the graph (shapes, momentum, betas), except the optimizers' learning rates and
/// Adam's step counts, which live in device memory: schedulers and set_lr() act on the next
/// replay. Only device work may happen inside the step: no item(), no copies between devices, no
/// printing of values, no random numbers (their values would be frozen too). Tensors the step
/// reads or writes that were made before the capture must stay alive, at the same place, while
/// the graph is replayed (replacing a parameter, not updating it in place, breaks the graph).
///
/// Threads: a CPU capture records the calls of the capturing thread only; other threads run
/// their own work as usual. nudge queues all work for a CUDA device on ONE stream, whichever
/// thread submits it: while a CUDA step is being captured, no other thread may run nudge ops on
/// that device. Captures do not nest (a second capture is refused, and the first one goes on).
#include <functional>
#include <memory>
#include <vector>

#include "core/device.h"

namespace nudge {

namespace kernels {
class CallRecording;
}
class CaptureArena;

class Graph {
 public:
  explicit Graph(Device device = Device::cpu());
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  Graph(Graph&& other) noexcept;
  Graph& operator=(Graph&& other) noexcept;

  /// Records the work `step` does on this graph's device, replacing any earlier recording.
  void capture(const std::function<void()>& step);
  /// Runs the recorded work once more (on CUDA asynchronously, like any nudge CUDA op).
  void replay();
  bool captured() const;
  Device device() const { return device_; }
  /// Number of recorded backend calls (CPU graphs; 0 on CUDA, where the driver holds the graph).
  std::size_t recorded_calls() const;
  /// Bytes of the memory the capture allocated (CPU graphs; 0 on CUDA).
  std::size_t arena_bytes() const;

  /// For state a captured step reads from device memory but the host updates (an optimizer's
  /// learning rates): `refresh` runs before every replay of the graph this thread is capturing,
  /// outside the graph. Does nothing when this thread is not capturing.
  static void before_each_replay(std::function<void()> refresh);
  /// `watch` runs after every replay of the graph this thread is capturing has been queued (an
  /// NCCL communicator records an event there and watches the replayed collectives' deadline).
  /// Does nothing when this thread is not capturing.
  static void after_each_replay(std::function<void()> watch);

 private:
  void reset() noexcept;

  Device device_;
  void* cuda_graph_ = nullptr;
  std::unique_ptr<kernels::CallRecording> cpu_calls_;
  std::shared_ptr<CaptureArena> arena_;
  std::vector<std::function<void()>> before_replay_, after_replay_;
};

/// True while this thread captures a CPU graph (for the CPU), or while cuda:i is being captured.
bool is_capturing(Device device);

namespace detail {
/// Throws, naming `what`, while this thread captures a CPU graph: the host-side work `what` does
/// (reading values, drawing random numbers, copying between devices) would not be part of a replay.
void refuse_in_cpu_capture(const char* what);
}  // namespace detail

}  // namespace nudge

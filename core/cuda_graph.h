#pragma once
/// CUDA graphs: a whole training step recorded once and replayed with one launch, for small
/// networks whose steps are dominated by launch overhead rather than arithmetic.
#include <functional>

namespace nudge::cuda {

/// A recorded sequence of nudge work on one CUDA device, replayed with a single launch.
///
///     cuda::Graph graph;
///     sgd.step();                       // one eager step first: momentum buffers exist
///     Tensor loss;
///     graph.capture([&] {
///       sgd.zero_grad();
///       loss = nn::mse_loss(model(x_static), y_static);
///       loss.backward();
///       sgd.step();
///     });
///     for (...) { x_static.copy_(batch); graph.replay(); }   // loss holds each replay's value
///
/// Capturing records, it does not run: replay() runs the step. Every replay uses the same
/// memory: tensors created during the capture (the loss, gradients) are overwritten by each
/// replay, and new data is fed by copying into tensors created before the capture. Numbers the
/// host knew at capture time are frozen into the graph (learning rate, momentum, shapes): capture
/// again to change them. Only device work may happen inside the step: no item(), no copies to
/// the host, no printing of values.
///
/// Threads: nudge queues all work for a device on ONE stream, whichever thread submits it. While
/// a step is being captured on a device, no other thread may run nudge ops on that device (they
/// would be recorded into the graph, or invalidate it); captures do not nest (a second capture of
/// the same device is refused with an error, and the first one goes on).
class Graph {
 public:
  Graph() = default;
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  Graph(Graph&& other) noexcept : graph_(other.graph_) { other.graph_ = nullptr; }
  Graph& operator=(Graph&& other) noexcept;

  /// Records the work `step` queues on cuda:`device`, replacing any earlier recording.
  void capture(const std::function<void()>& step, int device = 0);
  /// Runs the recorded work once more (asynchronously, like any nudge CUDA op).
  void replay();
  bool captured() const { return graph_ != nullptr; }

 private:
  void reset() noexcept;
  void* graph_ = nullptr;
};

/// True while work on cuda:`device` is being recorded into a Graph (false without CUDA).
bool is_capturing(int device = 0);

}  // namespace nudge::cuda

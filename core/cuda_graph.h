#pragma once
/// The CUDA spelling of nudge::Graph (core/graph.h), kept for programs written before graphs
/// worked on every device: cuda::Graph g; g.capture(step, device_index); g.replay().
#include <functional>

#include "core/graph.h"

namespace nudge::cuda {

class Graph {
 public:
  /// Records the work `step` queues on cuda:`device`, replacing any earlier recording.
  void capture(const std::function<void()>& step, int device = 0) {
    graph_ = nudge::Graph(Device::cuda(device));
    graph_.capture(step);
  }
  void replay() { graph_.replay(); }
  bool captured() const { return graph_.captured(); }

 private:
  nudge::Graph graph_{Device::cuda(0)};
};

/// True while work on cuda:`device` is being recorded into a Graph (false without CUDA).
bool is_capturing(int device = 0);

}  // namespace nudge::cuda

#include "core/cuda_graph.h"

#include "kernels/dispatch.h"
#include "core/error.h"

// core reaches the backends only through the dispatch tables and the plain-data calls.
using namespace nudge::kernels;  // NOLINT(google-build-using-namespace)

namespace nudge::cuda {

namespace {
const DeviceRuntime* cuda_runtime() { return dispatch::runtime_if_built(DeviceType::CUDA); }
}  // namespace

Graph::~Graph() { reset(); }

Graph& Graph::operator=(Graph&& other) noexcept {
  if (this != &other) {
    reset();
    graph_ = other.graph_;
    other.graph_ = nullptr;
  }
  return *this;
}

void Graph::reset() noexcept {
  if (graph_) cuda_runtime()->graph_destroy(graph_);
  graph_ = nullptr;
}

void Graph::capture(const std::function<void()>& step, int device) {
  const DeviceRuntime& rt = dispatch::runtime(Device::cuda(device));  // throws, saying why, without a GPU
  reset();
  rt.capture_begin(device);
  try {
    step();
  } catch (const std::exception& e) {
    rt.capture_end(device, /*abort=*/true);
    NUDGE_FAIL("cuda::Graph::capture: the step failed while being recorded: ", e.what(),
               "\n  A recorded step may only queue device work: no item(), to(cpu) or printing of values. Run one "
               "eager step before capturing, so that state created on first use already exists.");
  }
  graph_ = rt.capture_end(device, /*abort=*/false);
}

void Graph::replay() {
  NUDGE_CHECK(graph_ != nullptr, "cuda::Graph::replay: nothing was captured (call capture(step) first)");
  cuda_runtime()->graph_replay(graph_);
}

bool is_capturing(int device) {
  const DeviceRuntime* rt = cuda_runtime();
  return rt != nullptr && rt->device_count(nullptr) > device && rt->is_capturing(device);
}

}  // namespace nudge::cuda

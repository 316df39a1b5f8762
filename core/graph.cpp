#include "core/graph.h"

#include "core/capture_arena.h"
#include "core/cuda_graph.h"
#include "core/error.h"
#include "kernels/dispatch.h"
#include "kernels/recording.h"

// core reaches the backends only through the dispatch tables and the plain-data calls.
using namespace nudge::kernels;  // NOLINT(google-build-using-namespace)

namespace nudge {

namespace {

/// The graph this thread is capturing (either device), for before_each_replay().
thread_local Graph* capturing_graph = nullptr;

const DeviceRuntime* cuda_runtime() { return dispatch::runtime_if_built(DeviceType::CUDA); }

[[noreturn]] void fail_capture(Device device, const std::exception& e) {
  NUDGE_FAIL("Graph::capture (", device, "): the step failed while being recorded: ", e.what(),
             "\n  A recorded step may only queue device work: no item(), to(cpu) or printing of values, no random "
             "numbers. Run one eager step before capturing, so that state created on first use already exists.");
}

/// Makes this thread's CPU calls and allocations go to a recording and an arena, until destroyed.
class CpuCaptureScope {
 public:
  CpuCaptureScope(CallRecording* calls, std::shared_ptr<CaptureArena> arena) {
    set_active_recording(calls);
    set_active_capture_arena(std::move(arena));
  }
  ~CpuCaptureScope() {
    set_active_recording(nullptr);
    set_active_capture_arena(nullptr);
  }
  CpuCaptureScope(const CpuCaptureScope&) = delete;
  CpuCaptureScope& operator=(const CpuCaptureScope&) = delete;
};

/// Marks `graph` as the one this thread captures, until destroyed.
class CapturingGraphScope {
 public:
  explicit CapturingGraphScope(Graph* graph) { capturing_graph = graph; }
  ~CapturingGraphScope() { capturing_graph = nullptr; }
  CapturingGraphScope(const CapturingGraphScope&) = delete;
  CapturingGraphScope& operator=(const CapturingGraphScope&) = delete;
};

}  // namespace

Graph::Graph(Device device) : device_(device) {}

Graph::~Graph() { reset(); }

Graph::Graph(Graph&& other) noexcept
    : device_(other.device_),
      cuda_graph_(other.cuda_graph_),
      cpu_calls_(std::move(other.cpu_calls_)),
      arena_(std::move(other.arena_)),
      before_replay_(std::move(other.before_replay_)),
      after_replay_(std::move(other.after_replay_)) {
  other.cuda_graph_ = nullptr;
}

Graph& Graph::operator=(Graph&& other) noexcept {
  if (this != &other) {
    reset();
    device_ = other.device_;
    cuda_graph_ = other.cuda_graph_;
    other.cuda_graph_ = nullptr;
    cpu_calls_ = std::move(other.cpu_calls_);
    arena_ = std::move(other.arena_);
    before_replay_ = std::move(other.before_replay_);
    after_replay_ = std::move(other.after_replay_);
  }
  return *this;
}

void Graph::reset() noexcept {
  if (cuda_graph_) cuda_runtime()->graph_destroy(cuda_graph_);
  cuda_graph_ = nullptr;
  cpu_calls_.reset();
  arena_.reset();  // tensors made during the capture keep the memory they use
  before_replay_.clear();
  after_replay_.clear();
}

bool Graph::captured() const { return cuda_graph_ != nullptr || cpu_calls_ != nullptr; }
std::size_t Graph::recorded_calls() const { return cpu_calls_ ? cpu_calls_->size() : 0; }
std::size_t Graph::arena_bytes() const { return arena_ ? arena_->bytes() : 0; }

void Graph::capture(const std::function<void()>& step) {
  NUDGE_CHECK(capturing_graph == nullptr, "Graph::capture (", device_,
              "): this thread is already capturing a graph on ", capturing_graph->device(),
              "; nested captures are not supported");
  if (device_.is_cpu()) {
    reset();
    auto calls = std::make_unique<CallRecording>();
    auto arena = std::make_shared<CaptureArena>();
    {
      const CapturingGraphScope capturing(this);
      const CpuCaptureScope scope(calls.get(), arena);
      try {
        step();
      } catch (const std::exception& e) {
        before_replay_.clear();
        after_replay_.clear();
        fail_capture(device_, e);
      }
    }
    cpu_calls_ = std::move(calls);
    arena_ = std::move(arena);
    return;
  }
  const DeviceRuntime& rt = dispatch::runtime(device_);  // throws, saying why, without a GPU
  reset();
  rt.capture_begin(device_.index());
  {
    const CapturingGraphScope capturing(this);
    try {
      step();
    } catch (const std::exception& e) {
      rt.capture_end(device_.index(), /*abort=*/true);
      before_replay_.clear();
      after_replay_.clear();
      fail_capture(device_, e);
    }
  }
  try {
    cuda_graph_ = rt.capture_end(device_.index(), /*abort=*/false);
  } catch (...) {
    before_replay_.clear();
    after_replay_.clear();
    throw;
  }
}

void Graph::replay() {
  NUDGE_CHECK(captured(), "Graph::replay (", device_, "): nothing was captured (call capture(step) first)");
  // A CPU replay runs its calls directly: inside another CPU capture they would not be recorded.
  NUDGE_CHECK(!(cpu_calls_ && active_recording()), "Graph::replay (", device_,
              "): cannot replay a CPU graph inside a CPU capture; capture the steps themselves");
  for (const auto& refresh : before_replay_) refresh();
  if (cpu_calls_) cpu_calls_->replay();
  else cuda_runtime()->graph_replay(cuda_graph_);
  for (const auto& watch : after_replay_) watch();
}

void Graph::before_each_replay(std::function<void()> refresh) {
  if (capturing_graph) capturing_graph->before_replay_.push_back(std::move(refresh));
}

void Graph::after_each_replay(std::function<void()> watch) {
  if (capturing_graph) capturing_graph->after_replay_.push_back(std::move(watch));
}

bool is_capturing(Device device) {
  if (device.is_cpu()) return active_recording() != nullptr;
  return cuda::is_capturing(device.index());
}

namespace detail {
void refuse_in_cpu_capture(const char* what) {
  NUDGE_CHECK(active_recording() == nullptr, what,
              ": cannot run inside a Graph capture on the CPU: a capture records kernels without running them (values "
              "do not exist until replay) and a replay repeats only kernels, not host work");
}
}  // namespace detail

namespace cuda {
bool is_capturing(int device) {
  const DeviceRuntime* rt = cuda_runtime();
  return rt != nullptr && rt->device_count(nullptr) > device && rt->is_capturing(device);
}
}  // namespace cuda

}  // namespace nudge

#include "core/capture_arena.h"

#include "core/hot_thread_local.h"
#include "kernels/dispatch.h"

// core reaches the backends only through the dispatch tables and the plain-data calls.
using namespace nudge::kernels;  // NOLINT(google-build-using-namespace)

namespace nudge {

namespace {
thread_local std::shared_ptr<CaptureArena> current;
thread_local bool capturing NUDGE_HOT_THREAD_LOCAL = false;  // current != null, read by every new storage
}  // namespace

CaptureArena::~CaptureArena() {
  const DeviceRuntime& rt = dispatch::runtime(Device::cpu());
  for (const Block& b : blocks_) rt.deallocate(0, b.data, b.nbytes);
}

void* CaptureArena::allocate(std::size_t nbytes) {
  blocks_.reserve(blocks_.size() + 1);  // so that push_back cannot throw after the allocation
  void* data = dispatch::runtime(Device::cpu()).allocate(0, nbytes);
  blocks_.push_back({data, nbytes});
  bytes_ += nbytes;
  return data;
}

const std::shared_ptr<CaptureArena>& active_capture_arena() { return current; }
bool capture_arena_active() { return capturing; }
void set_active_capture_arena(std::shared_ptr<CaptureArena> arena) {
  current = std::move(arena);
  capturing = current != nullptr;
}

}  // namespace nudge

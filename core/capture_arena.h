#pragma once
/// Memory for the CPU tensors a Graph capture creates (core/graph.h). A captured step's calls hold
/// raw addresses, so every block keeps its address for as long as the graph or any tensor made
/// during the capture lives (the arena is shared by both), and no block is handed out twice: a
/// block reused within the step would be safe for what kernels write, but not for values the host
/// wrote at capture time (a constant made by tensor({...}) inside the step), which no replay
/// rewrites. The price: a captured step holds the sum of its temporaries, not their peak. Internal.
#include <cstddef>
#include <memory>
#include <vector>

namespace nudge {

class CaptureArena {
 public:
  CaptureArena() = default;
  CaptureArena(const CaptureArena&) = delete;
  CaptureArena& operator=(const CaptureArena&) = delete;
  ~CaptureArena();

  void* allocate(std::size_t nbytes);
  std::size_t bytes() const { return bytes_; }

 private:
  struct Block {
    void* data;
    std::size_t nbytes;
  };
  std::vector<Block> blocks_;
  std::size_t bytes_ = 0;
};

/// The arena this thread's new CPU storages come from, or null when it is not capturing.
const std::shared_ptr<CaptureArena>& active_capture_arena();
/// active_capture_arena() != nullptr, cheaper (every new storage asks).
bool capture_arena_active();
void set_active_capture_arena(std::shared_ptr<CaptureArena> arena);

}  // namespace nudge

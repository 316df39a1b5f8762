#include "core/small_blocks.h"

#include <cstdlib>

namespace nudge::small_blocks {

namespace {

constexpr int kClasses = static_cast<int>(kMaxBytes / kAlignment) + 1;
constexpr int kPerClass = 64;

/// This thread's freed blocks by size class. Plain arrays, so that a block freed by a static
/// destructor after this thread's lists were released still finds a valid (then unused) object.
struct FreeLists {
  void* blocks[kClasses][kPerClass];
  int count[kClasses];
  bool alive;
};
thread_local constinit FreeLists lists{{}, {}, true};

/// Frees this thread's kept blocks when it exits (a trivially destructible object cannot).
struct Releaser {
  ~Releaser() {
    lists.alive = false;
    for (int c = 0; c < kClasses; ++c)
      for (int i = 0; i < lists.count[c]; ++i) std::free(lists.blocks[c][i]);
  }
};
thread_local Releaser releaser;

std::size_t class_bytes(std::size_t nbytes) { return (nbytes + kAlignment - 1) / kAlignment * kAlignment; }
int size_class(std::size_t nbytes) { return static_cast<int>(class_bytes(nbytes) / kAlignment) - 1; }

}  // namespace

void* allocate(std::size_t nbytes) noexcept {
  if (nbytes <= kMaxBytes) {
    const int c = size_class(nbytes);
    if (lists.count[c] > 0) return lists.blocks[c][--lists.count[c]];
  }
  return std::aligned_alloc(kAlignment, class_bytes(nbytes));
}

void deallocate(void* p, std::size_t nbytes) noexcept {
  if (nbytes <= kMaxBytes && lists.alive) {
    (void)&releaser;  // this thread's releaser exists from its first kept block on
    const int c = size_class(nbytes);
    if (lists.count[c] < kPerClass) {
      lists.blocks[c][lists.count[c]++] = p;
      return;
    }
  }
  std::free(p);
}

}  // namespace nudge::small_blocks

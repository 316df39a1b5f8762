#include "core/small_blocks.h"

#include <cstdlib>
#include <memory>
#include <new>

#include "core/hot_thread_local.h"

namespace nudge::small_blocks {

namespace {

constexpr int kClasses = static_cast<int>(kMaxBytes / kAlignment) + 1;
constexpr int kPerClass = 64;

/// Freed blocks by size class.
struct FreeLists {
  void* blocks[kClasses][kPerClass];
  int count[kClasses];
};
/// Owns a thread's lists and frees their blocks when the thread exits. The lists themselves are on
/// the heap: a module whose thread-locals are reached initial-exec must fit all of them in the
/// small static TLS reserve to be loadable with dlopen (tested), and the lists take 9 KB.
struct ListsOwner {
  std::unique_ptr<FreeLists> lists;
  ~ListsOwner();
};
thread_local ListsOwner owner;  // reached only on a thread's first use
// What the hot path reads: this thread's lists (null until first use and after the thread's
// owner is gone, when blocks go straight back to the C library).
thread_local FreeLists* this_thread NUDGE_HOT_THREAD_LOCAL = nullptr;
thread_local bool exited NUDGE_HOT_THREAD_LOCAL = false;

ListsOwner::~ListsOwner() {
  this_thread = nullptr;
  exited = true;
  if (!lists) return;
  for (int c = 0; c < kClasses; ++c)
    for (int i = 0; i < lists->count[c]; ++i) std::free(lists->blocks[c][i]);
}

/// This thread's lists, made on first use; null once the thread is exiting.
FreeLists* thread_lists() {
  if (this_thread != nullptr) [[likely]]
    return this_thread;
  if (exited) return nullptr;
  owner.lists.reset(new (std::nothrow) FreeLists{});
  this_thread = owner.lists.get();  // null when out of memory: blocks then bypass the lists
  return this_thread;
}

std::size_t class_bytes(std::size_t nbytes) { return (nbytes + kAlignment - 1) / kAlignment * kAlignment; }
int size_class(std::size_t nbytes) { return static_cast<int>(class_bytes(nbytes) / kAlignment) - 1; }

}  // namespace

void* allocate(std::size_t nbytes) noexcept {
  if (nbytes <= kMaxBytes) {
    const int c = size_class(nbytes);
    FreeLists* lists = thread_lists();
    if (lists != nullptr && lists->count[c] > 0) return lists->blocks[c][--lists->count[c]];
  }
  return std::aligned_alloc(kAlignment, class_bytes(nbytes));
}

void deallocate(void* p, std::size_t nbytes) noexcept {
  if (nbytes <= kMaxBytes) {
    const int c = size_class(nbytes);
    FreeLists* lists = thread_lists();
    if (lists != nullptr && lists->count[c] < kPerClass) {
      lists->blocks[c][lists->count[c]++] = p;
      return;
    }
  }
  std::free(p);
}

}  // namespace nudge::small_blocks

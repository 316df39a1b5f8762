// Host memory: 64-byte aligned blocks (a cache line, and what AVX-512 loads like).
//
// Large blocks are cached after being freed and handed out again: the C library returns them to
// the kernel (munmap) and a fresh one costs a page fault per 4 KiB on first touch — measured at
// 1.1 s for a 256 MiB add on a 2-core VM, against 23 ms with the block reused. Small blocks
// (up to 1 KiB, the tensors of a tiny network) come from core/small_blocks.h, kept per thread:
// aligned_alloc and free of such a block cost ~100 ns together, most of a 4-element op's time.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "core/error.h"
#include "core/small_blocks.h"
#include "kernels/cpu/kernels.h"

namespace nudge::kernels::cpu {

namespace {

constexpr std::size_t kAlignment = small_blocks::kAlignment;

int device_count(std::string*) { return 1; }

constexpr std::size_t kCachedFrom = std::size_t{1} << 20;  // blocks this large are cached
constexpr std::size_t kPage = 4096;
constexpr std::size_t kMaxCachedBytes = std::size_t{2} << 30;

/// Freed large blocks by size. A block serves a request up to 1/8 smaller than itself. When a
/// freed block does not fit under the cap, the blocks freed longest ago make room for it: a cache
/// full of stale 256 MiB blocks once refused every 1 GiB block, so each 1 GiB op paid its page
/// faults again (0.8 s per add instead of 0.09 s).
class BlockCache {
 public:
  void* take(std::size_t size) {
    std::lock_guard lock(mutex_);
    const auto it = free_.lower_bound(size);
    if (it == free_.end() || it->first > size + size / 8) return nullptr;
    void* p = it->second.data;
    cached_bytes_ -= it->first;
    free_.erase(it);
    return p;
  }
  /// Keeps `p`, evicting the oldest blocks if needed; false (the caller frees it) when `p` alone
  /// is over the cap.
  bool keep(void* p, std::size_t size) {
    if (size > kMaxCachedBytes) return false;
    std::vector<void*> evicted;
    {
      std::lock_guard lock(mutex_);
      while (cached_bytes_ + size > kMaxCachedBytes) {
        auto oldest = free_.begin();
        for (auto it = free_.begin(); it != free_.end(); ++it)
          if (it->second.freed_at < oldest->second.freed_at) oldest = it;
        cached_bytes_ -= oldest->first;
        evicted.push_back(oldest->second.data);
        free_.erase(oldest);
      }
      free_.emplace(size, Entry{p, ++clock_});
      cached_bytes_ += size;
    }
    for (void* e : evicted) std::free(e);  // outside the lock: munmap takes time
    return true;
  }
  /// Frees every cached block (before reporting out-of-memory).
  void release_all() {
    std::lock_guard lock(mutex_);
    for (const auto& [size, entry] : free_) std::free(entry.data);
    free_.clear();
    cached_bytes_ = 0;
  }

 private:
  struct Entry {
    void* data;
    std::uint64_t freed_at;
  };
  std::mutex mutex_;
  std::multimap<std::size_t, Entry> free_;
  std::size_t cached_bytes_ = 0;
  std::uint64_t clock_ = 0;
};

BlockCache& cache() {
  static auto* c = new BlockCache;  // never destroyed: tensors may be freed during static destruction
  return *c;
}

std::size_t block_size(std::size_t nbytes) {
  if (nbytes >= kCachedFrom) return (nbytes + kPage - 1) / kPage * kPage;
  return (nbytes + kAlignment - 1) / kAlignment * kAlignment;
}

void* allocate(int, std::size_t nbytes) {
  const std::size_t size = block_size(nbytes);
  if (size != 0 && size <= small_blocks::kMaxBytes)
    if (void* p = small_blocks::allocate(size)) return p;
  if (size >= kCachedFrom)
    if (void* p = cache().take(size)) return p;
  void* p = std::aligned_alloc(size >= kCachedFrom ? kPage : kAlignment, size);
  if (p == nullptr) {
    cache().release_all();
    p = std::aligned_alloc(size >= kCachedFrom ? kPage : kAlignment, size);
  }
  if (p == nullptr) throw OutOfMemory("cpu: out of memory allocating " + std::to_string(nbytes) + " bytes");
  return p;
}

void deallocate(int, void* p, std::size_t nbytes) noexcept {
  const std::size_t size = block_size(nbytes);
  if (size != 0 && size <= small_blocks::kMaxBytes) {
    small_blocks::deallocate(p, size);
    return;
  }
  if (size >= kCachedFrom && cache().keep(p, size)) return;
  std::free(p);
}

void copy_bytes(void* dst, Device, const void* src, Device, std::size_t nbytes) { std::memcpy(dst, src, nbytes); }

void synchronize(int) {}

}  // namespace

DeviceRuntime runtime() {
  return DeviceRuntime{.device_count = device_count,
                       .allocate = allocate,
                       .deallocate = deallocate,
                       .copy_bytes = copy_bytes,
                       .set_threads = set_threads,
                       .get_threads = get_threads,
                       .synchronize = synchronize};
}

}  // namespace nudge::kernels::cpu

// The per-thread cache of small blocks (core/small_blocks.h) behind CPU tensor data, TensorImpl,
// Storage and autograd nodes.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include <dlfcn.h>

#include "core/small_blocks.h"
#include "test_util.h"

namespace nudge::testing {
namespace {

bool cache_is_on() { return small_blocks::kMaxBytes > 0; }  // off under AddressSanitizer

// Asks the process, not the compiler's macros, whether AddressSanitizer's runtime is in it: a
// cache left on under ASan hides every use after free of a small block (clang 14 defines no
// __SANITIZE_ADDRESS__, and the cache stayed on in the CI's clang ASan build).
TEST(SmallBlocks, TheCacheIsOffWhereverAddressSanitizerRuns) {
  const bool asan_runtime = dlsym(RTLD_DEFAULT, "__asan_init") != nullptr;
  EXPECT_EQ(cache_is_on(), !asan_runtime) << (asan_runtime ? "ASan is linked in" : "no ASan runtime");
}

TEST(SmallBlocks, BlocksAreAlignedAndAFreedBlockIsTheNextOneOfItsSize) {
  for (const std::size_t n : {std::size_t{1}, std::size_t{64}, std::size_t{65}, std::size_t{1000}}) {
    void* p = small_blocks::allocate(n);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % small_blocks::kAlignment, 0u);
    std::memset(p, 0xab, n);  // the whole requested size is usable
    small_blocks::deallocate(p, n);
    void* again = small_blocks::allocate(n);
    if (cache_is_on()) {
      EXPECT_EQ(again, p) << n;
    }
    small_blocks::deallocate(again, n);
  }
  // 65 bytes take a 128-byte block: a block freed as 100 bytes serves a request of 65.
  void* p = small_blocks::allocate(100);
  small_blocks::deallocate(p, 100);
  void* q = small_blocks::allocate(65);
  if (cache_is_on()) {
    EXPECT_EQ(q, p);
  }
  small_blocks::deallocate(q, 65);
}

TEST(SmallBlocks, ManyLiveBlocksAreDistinctAndTheCacheStaysBounded) {
  std::vector<void*> blocks;
  for (int i = 0; i < 500; ++i) blocks.push_back(small_blocks::allocate(256));
  EXPECT_EQ(std::set<void*>(blocks.begin(), blocks.end()).size(), blocks.size());
  for (void* p : blocks) small_blocks::deallocate(p, 256);  // past the 64 kept, the rest are freed
  std::vector<void*> again;
  for (int i = 0; i < 500; ++i) again.push_back(small_blocks::allocate(256));
  EXPECT_EQ(std::set<void*>(again.begin(), again.end()).size(), again.size());
  for (void* p : again) small_blocks::deallocate(p, 256);
}

TEST(SmallBlocks, ABlockMayBeFreedByAnotherThreadAndServeItThen) {
  std::vector<void*> made(100);
  std::thread maker([&] {
    for (void*& p : made) p = small_blocks::allocate(128);
  });
  maker.join();
  std::thread freer([&] {
    for (void* p : made) small_blocks::deallocate(p, 128);
    void* reused = small_blocks::allocate(128);  // from this thread's own list now
    if (cache_is_on()) {
      EXPECT_NE(std::find(made.begin(), made.end(), reused), made.end());
    }
    small_blocks::deallocate(reused, 128);
  });
  freer.join();
}

struct Big {
  char bytes[4096];
};
struct alignas(128) OverAligned {
  char c;
};

TEST(SmallBlocks, SharedObjectsOfEverySizeAndAlignment) {
  auto small = small_blocks::make_shared<std::int64_t>(42);
  auto big = small_blocks::make_shared<Big>();  // past 1 KiB: operator new
  auto aligned = small_blocks::make_shared<OverAligned>();
  EXPECT_EQ(*small, 42);
  big->bytes[4095] = 1;
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(aligned.get()) % alignof(OverAligned), 0u);
  std::weak_ptr<std::int64_t> weak = small;
  small.reset();
  EXPECT_TRUE(weak.expired());  // the block outlives the object until the last weak reference
}

}  // namespace
}  // namespace nudge::testing

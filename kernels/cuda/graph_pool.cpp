#include "kernels/cuda/graph_pool.h"

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"

namespace nudge::kernels::cuda {

/// Device memory reserved for one graph. Its own blocks come from cudaMalloc; adopted blocks came
/// from the stream-ordered pool (cudaMallocAsync). All go back only when the pool is destroyed.
class GraphPool {
 public:
  enum class Origin { Own, StreamOrdered };
  struct Block {
    std::size_t size;
    Origin origin;
  };

  explicit GraphPool(int index) : index_(index) {}
  GraphPool(const GraphPool&) = delete;
  GraphPool& operator=(const GraphPool&) = delete;

  ~GraphPool() {
    DeviceGuard guard(index_, std::nothrow);
    for (const auto& [ptr, block] : blocks_)
      NUDGE_CUDA_WARN(block.origin == Origin::Own ? cudaFree(ptr) : cudaFreeAsync(ptr, context(index_).stream),
                      "freeing a graph pool block");
  }

  void* allocate(std::size_t nbytes) {
    const std::size_t size = (nbytes + 511) / 512 * 512;
    // Reuse a free block of the same order of size; a much larger one would waste memory.
    auto it = free_.lower_bound(size);
    if (it != free_.end() && it->first <= 2 * size) {
      void* p = it->second;
      free_.erase(it);
      return p;
    }
    void* p = reserve(size);
    blocks_.emplace(p, Block{size, Origin::Own});
    return p;
  }

  /// A block this pool handed out is free again: later allocations of the capture may reuse it.
  void release(void* p) { free_.emplace(blocks_.at(p).size, p); }
  /// Takes ownership of a block the captured kernels may use (never handed out again).
  void adopt(void* p, Block block) { blocks_.emplace(p, block); }
  /// Gives up a block (to another pool's adopt).
  Block disown(void* p) {
    const Block block = blocks_.at(p);
    blocks_.erase(p);
    return block;
  }

 private:
  /// cudaMalloc is not a queue operation: allow it during the capture (it reserves memory for the
  /// graph, it is not meant to be replayed). The stream-ordered pool may hold the memory after a
  /// memory-heavy eager phase: give its cache back to the driver and try once more.
  void* reserve(std::size_t size) {
    DeviceGuard guard(index_);
    cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
    NUDGE_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, size);
    if (err != cudaSuccess) {
      cudaGetLastError();
      cudaMemPool_t pool;
      if (cudaDeviceGetDefaultMemPool(&pool, index_) == cudaSuccess && cudaMemPoolTrimTo(pool, 0) == cudaSuccess)
        err = cudaMalloc(&p, size);
    }
    cudaThreadExchangeStreamCaptureMode(&mode);
    if (err != cudaSuccess) {
      cudaGetLastError();
      throw OutOfMemory("cuda:" + std::to_string(index_) + ": out of memory allocating " + std::to_string(size) +
                        " bytes for a CUDA graph capture");
    }
    return p;
  }

  int index_;
  std::multimap<std::size_t, void*> free_;
  std::unordered_map<void*, Block> blocks_;
};

namespace {

constexpr int kMaxDevices = 64;

struct Registry {
  std::mutex mutex;
  std::shared_ptr<GraphPool> capturing[kMaxDevices];
  /// Work a capture forbids, run when the capture of that device ends.
  std::vector<std::function<void()>> after_capture[kMaxDevices];
  /// Live blocks handed out by a pool, each keeping its pool alive.
  std::unordered_map<void*, std::shared_ptr<GraphPool>> owners;
  /// Captures in progress plus live pool blocks: 0 means the fast path (no lock) is safe.
  std::atomic<long> activity{0};
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: tensors may be freed during static destruction
  return *r;
}

/// With r.mutex held: device `preferred` if it is being captured, else any device that is, else -1.
/// Work a capture forbids (cudaFree synchronises the whole device; destroying a graph waits for a
/// stream) must wait for the end of every capture in progress, not only its own device's: one
/// thread may capture cuda:1 while it drops a graph or pool block of cuda:0.
int capture_in_progress(const Registry& r, int preferred) {
  if (r.capturing[preferred]) return preferred;
  for (int i = 0; i < kMaxDevices; ++i)
    if (r.capturing[i]) return i;
  return -1;
}

}  // namespace

void begin_capture_allocations(int index) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  NUDGE_CHECK(!r.capturing[index], "cuda::Graph: cuda:", index, " is already being captured");
  r.capturing[index] = std::make_shared<GraphPool>(index);
  r.activity.fetch_add(1);
}

std::shared_ptr<GraphPool> end_capture_allocations(int index) {
  Registry& r = registry();
  std::vector<std::function<void()>> deferred;
  std::shared_ptr<GraphPool> pool;
  {
    std::lock_guard lock(r.mutex);
    if (!r.capturing[index]) return nullptr;
    pool = std::move(r.capturing[index]);
    r.activity.fetch_sub(1);
    deferred.swap(r.after_capture[index]);
  }
  for (auto& action : deferred) action();
  return pool;
}

void* allocate_if_capturing(int index, std::size_t nbytes) {
  Registry& r = registry();
  if (r.activity.load() == 0) return nullptr;
  std::lock_guard lock(r.mutex);
  const std::shared_ptr<GraphPool>& pool = r.capturing[index];
  if (!pool) return nullptr;
  void* p = pool->allocate(nbytes);
  r.owners.emplace(p, pool);
  r.activity.fetch_add(1);
  return p;
}

bool deallocate_if_captured(int index, void* ptr) noexcept {
  Registry& r = registry();
  if (r.activity.load() == 0) return false;
  std::shared_ptr<GraphPool> last_reference;  // destroyed (cudaFree) after the lock is released
  std::lock_guard lock(r.mutex);
  const std::shared_ptr<GraphPool>& capturing = r.capturing[index];
  if (const auto it = r.owners.find(ptr); it != r.owners.end()) {
    if (capturing && it->second != capturing) {
      // An earlier graph's block dropped inside this capture: the new graph may use it.
      capturing->adopt(ptr, it->second->disown(ptr));
      // Its old pool may die with this reference: not while capturing (cudaFree), afterwards.
      r.after_capture[index].push_back([old = std::move(it->second)] {});
    } else {
      it->second->release(ptr);
      // If this was the pool's last block and its graph is gone, the pool dies (cudaFree): never
      // while any device is being captured.
      if (const int busy = capture_in_progress(r, index); busy >= 0)
        r.after_capture[busy].push_back([old = std::move(it->second)] {});
      else last_reference = std::move(it->second);
    }
    r.owners.erase(it);
    r.activity.fetch_sub(1);
    return true;
  }
  if (!capturing) return false;
  capturing->adopt(ptr, {0, GraphPool::Origin::StreamOrdered});
  return true;
}

void run_when_not_capturing(int index, std::function<void()> action) {
  Registry& r = registry();
  {
    std::lock_guard lock(r.mutex);
    if (const int busy = capture_in_progress(r, index); busy >= 0) {
      r.after_capture[busy].push_back(std::move(action));
      return;
    }
  }
  action();
}

}  // namespace nudge::kernels::cuda

#include "kernels/cuda/graph_pool.h"

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"

namespace nudge::cuda {

/// Device memory reserved for one graph: blocks come from cudaMalloc and go back to the driver
/// only when the pool is destroyed.
class GraphPool {
 public:
  explicit GraphPool(int index) : index_(index) {}
  GraphPool(const GraphPool&) = delete;
  GraphPool& operator=(const GraphPool&) = delete;

  ~GraphPool() {
    DeviceGuard guard(index_);
    for (const auto& [ptr, size] : sizes_) {
      const cudaError_t err = cudaFree(ptr);
      if (err != cudaSuccess) std::fprintf(stderr, "nudge: cudaFree of a graph pool block failed: %s\n", cudaGetErrorString(err));
    }
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
    // cudaMalloc is not a queue operation: allow it during the capture (it reserves memory for
    // the graph, it is not meant to be replayed).
    DeviceGuard guard(index_);
    cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
    NUDGE_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
    void* p = nullptr;
    const cudaError_t err = cudaMalloc(&p, size);
    cudaThreadExchangeStreamCaptureMode(&mode);
    if (err != cudaSuccess) {
      cudaGetLastError();
      throw OutOfMemory("cuda:" + std::to_string(index_) + ": out of memory allocating " + std::to_string(nbytes) +
                        " bytes for a CUDA graph capture");
    }
    sizes_.emplace(p, size);
    return p;
  }

  void release(void* p) { free_.emplace(sizes_.at(p), p); }

 private:
  int index_;
  std::multimap<std::size_t, void*> free_;
  std::unordered_map<void*, std::size_t> sizes_;
};

namespace {

constexpr int kMaxDevices = 64;

struct Registry {
  std::mutex mutex;
  std::shared_ptr<GraphPool> capturing[kMaxDevices];
  std::vector<void*> deferred_frees[kMaxDevices];
  /// Live blocks handed out by a pool, each keeping its pool alive.
  std::unordered_map<void*, std::shared_ptr<GraphPool>> owners;
  /// Captures in progress plus live pool blocks: 0 means the fast path (no lock) is safe.
  std::atomic<long> activity{0};
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: tensors may be freed during static destruction
  return *r;
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
  std::vector<void*> deferred;
  std::shared_ptr<GraphPool> pool;
  {
    std::lock_guard lock(r.mutex);
    if (!r.capturing[index]) return nullptr;
    pool = std::move(r.capturing[index]);
    r.activity.fetch_sub(1);
    deferred.swap(r.deferred_frees[index]);
  }
  DeviceGuard guard(index);
  for (void* p : deferred) {
    const cudaError_t err = cudaFreeAsync(p, context(index).stream);
    if (err != cudaSuccess) std::fprintf(stderr, "nudge: deferred cudaFreeAsync failed: %s\n", cudaGetErrorString(err));
  }
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
  {
    std::lock_guard lock(r.mutex);
    if (const auto it = r.owners.find(ptr); it != r.owners.end()) {
      it->second->release(ptr);
      last_reference = std::move(it->second);
      r.owners.erase(it);
      r.activity.fetch_sub(1);
      return true;
    }
    if (!r.capturing[index]) return false;
    r.deferred_frees[index].push_back(ptr);
    return true;
  }
}

}  // namespace nudge::cuda

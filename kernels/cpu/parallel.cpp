// The worker pool behind parallel_for: threads that sleep on a condition variable until a loop is
// published, take ranges from an atomic counter (the caller takes them too), and report when done.
#include "kernels/cpu/parallel.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels/cpu/kernels.h"

namespace nudge::kernels::cpu {

namespace {

/// Set in the child of a fork(): the pool's threads stayed in the parent.
std::atomic<bool> in_forked_child{false};

class Pool {
 public:
  Pool() {
    pthread_atfork(nullptr, nullptr, [] { in_forked_child = true; });
  }
  ~Pool() {
    if (in_forked_child) {
      for (std::thread& t : workers_) t.detach();  // not this process's threads: nothing to join
      return;
    }
    resize(1);
  }

  /// Runs the loop on the pool; false when it cannot now (busy, a pool of one, or a forked child,
  /// which has none of its parent's threads).
  bool run(std::int64_t n, std::int64_t cost, std::int64_t align, RangeBody body) {
    if (in_forked_child) return false;
    std::unique_lock busy(loop_mutex_, std::try_to_lock);
    if (!busy.owns_lock() || workers_.empty()) return false;
    const std::int64_t threads = static_cast<std::int64_t>(workers_.size()) + 1;
    // Ranges of whole `align`-item blocks (vector loops see whole vectors), at most one per
    // thread and at least a grain of work each.
    const std::int64_t ranges =
        std::min({threads, n, std::max<std::int64_t>(1, n / std::max<std::int64_t>(1, kParallelGrain / cost))});
    if (ranges < 2) return false;
    Loop loop;
    loop.n = n;
    loop.step = (n / ranges + align - 1) / align * align;
    loop.ranges = (n + loop.step - 1) / loop.step;
    loop.body = &body;
    {
      std::lock_guard lock(state_mutex_);
      current_ = &loop;
      published_.store(++generation_, std::memory_order_release);
    }
    wake_.notify_all();
    const std::int64_t mine = work_on(loop);
    std::unique_lock lock(state_mutex_);
    loop.done += mine;
    // Done when every range ran and no worker still holds the loop (it lives on this stack).
    finished_.wait(lock, [&] { return loop.done == loop.ranges && loop.users == 0; });
    current_ = nullptr;
    return true;
  }

  void resize(int threads) {
    if (in_forked_child) return;
    std::lock_guard busy(loop_mutex_);  // no loop running
    const auto wanted = static_cast<std::size_t>(std::max(threads, 1) - 1);
    if (wanted == workers_.size()) return;
    {
      std::lock_guard lock(state_mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
    stopping_ = false;
    for (std::size_t i = 0; i < wanted; ++i) workers_.emplace_back([this] { work(); });
  }

  int size() {
    std::lock_guard busy(loop_mutex_);
    return static_cast<int>(workers_.size()) + 1;
  }

 private:
  /// A loop being run: on its caller's stack until every range ran and every worker let go of it.
  struct Loop {
    std::int64_t n = 0, step = 0, ranges = 0;
    const RangeBody* body = nullptr;
    std::atomic<std::int64_t> next{0};  // the next range to take
    std::int64_t done = 0, users = 0;   // under state_mutex_
  };

  void work() {
    std::uint64_t seen = 0;
    for (;;) {
      spin_for_next_loop(seen);
      Loop* loop = nullptr;
      {
        std::unique_lock lock(state_mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
        if (current_ == nullptr) continue;  // that loop already finished without this thread
        loop = current_;
        ++loop->users;
      }
      const std::int64_t finished = work_on(*loop);
      std::lock_guard lock(state_mutex_);
      loop->done += finished;
      --loop->users;
      if (loop->done == loop->ranges && loop->users == 0) finished_.notify_one();
    }
  }

  /// Before sleeping, a worker watches for the next loop for a while (a training step runs its large
  /// ops back to back): a sleeping thread takes ~50-100 us to wake, longer than a 2^18-element loop.
  void spin_for_next_loop(std::uint64_t seen) const {
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
    for (int i = 0; published_.load(std::memory_order_acquire) == seen; ++i) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      if (i % 64 == 63 && std::chrono::steady_clock::now() > until) return;
    }
  }

  /// Runs ranges of `loop` until none is left; returns how many this thread ran.
  static std::int64_t work_on(Loop& loop) {
    std::int64_t finished = 0;
    for (std::int64_t r; (r = loop.next.fetch_add(1)) < loop.ranges; ++finished) {
      const std::int64_t begin = r * loop.step;
      (*loop.body)(begin, std::min(loop.n, begin + loop.step));
    }
    return finished;
  }

  std::mutex loop_mutex_;   // one loop at a time; held while it runs
  std::mutex state_mutex_;  // guards current_, generation_, stopping_ and each Loop's done/users
  std::condition_variable wake_, finished_;
  std::vector<std::thread> workers_;
  Loop* current_ = nullptr;
  std::uint64_t generation_ = 0;
  std::atomic<std::uint64_t> published_{0};  // generation_, for spinning workers to watch
  bool stopping_ = false;
};

Pool& pool() {
  static Pool instance;
  static std::once_flag sized;
  std::call_once(sized, [] { instance.resize(get_threads()); });  // OpenBLAS's count (NUDGE_NUM_THREADS ...)
  return instance;
}

}  // namespace

void parallel_for_items(std::int64_t n, std::int64_t cost, std::int64_t align, RangeBody body) {
  if (n > 1 && n * cost >= 2 * kParallelGrain && pool().run(n, cost, align, body)) return;
  if (n > 0) body(0, n);
}

void set_loop_threads(int threads) { pool().resize(threads); }
int loop_threads() { return pool().size(); }

}  // namespace nudge::kernels::cpu

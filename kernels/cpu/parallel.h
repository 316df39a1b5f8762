#pragma once
/// Parallel loops of the CPU backend: one pool of worker threads, sized by nudge::set_num_threads
/// (the same count OpenBLAS uses), that splits a large elementwise loop into contiguous ranges.
/// Every element is computed by the same code whichever thread runs it, so the results are the
/// same with any number of threads.
#include <cstdint>
#include <type_traits>
#include <utility>

namespace nudge::kernels::cpu {

/// Loops of fewer elements stay on the calling thread: waking a worker costs about as much as
/// 32k additions (PyTorch's grain size is the same).
inline constexpr std::int64_t kParallelGrain = 32768;

/// A non-owning reference to a callable `void(std::int64_t begin, std::int64_t end)`: no allocation.
class RangeBody {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, RangeBody>>>
  RangeBody(F&& f)  // NOLINT: converts from any callable, like std::function_ref
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, std::int64_t b, std::int64_t e) { (*static_cast<std::remove_reference_t<F>*>(o))(b, e); }) {}
  void operator()(std::int64_t begin, std::int64_t end) const { call_(object_, begin, end); }

 private:
  void* object_;
  void (*call_)(void*, std::int64_t, std::int64_t);
};

/// parallel_for over `n` items of `cost` elements of work each (rows of a reduction), in ranges of
/// whole `align`-item blocks; split only when there are at least two grains of work.
void parallel_for_items(std::int64_t n, std::int64_t cost, std::int64_t align, RangeBody body);

/// Calls body(begin, end) on disjoint ranges that cover [0, n), each a multiple of 64 elements long
/// (but the last), on up to loop_threads() threads, the caller among them; returns when all are
/// done. Small loops, a pool of one thread, or a pool busy with another thread's loop (or with the
/// loop this one is nested in) run on the caller alone. Inline, so that a small loop (a tiny
/// network's tensors) is a direct call the compiler can see through.
template <class F> void parallel_for(std::int64_t n, F&& body) {
  if (n < 2 * kParallelGrain) {
    if (n > 0) body(std::int64_t{0}, n);
    return;
  }
  parallel_for_items(n, 1, 64, RangeBody(body));
}

/// The pool's size, the calling thread included (>= 1).
void set_loop_threads(int threads);
int loop_threads();

}  // namespace nudge::kernels::cpu

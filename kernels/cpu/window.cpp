// CPU sliding windows (im2col / col2im, kernels/calls.h WindowCall) on nudge's thread pool.
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/parallel.h"
#include "kernels/window_index.h"

namespace nudge::kernels::cpu {

void window(int, const WindowCall& call) {
  const std::int64_t work = window_work(call);
  if (work == 0) return;
  if (call.fold) {
    visit_numeric_dtype(call.dtype, "fold", [&](auto tag) {
      using T = decltype(tag);
      using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
      parallel_for(work, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = begin; i < end; ++i) fold_element<T, Acc>(call, i);
      });
    });
    return;
  }
  visit_numeric_dtype(call.dtype, "unfold", [&](auto tag) {
    using T = decltype(tag);
    parallel_for(work, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i) unfold_element<T>(call, i);
    });
  });
}

}  // namespace nudge::kernels::cpu

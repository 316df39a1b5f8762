#include "kernels/recording.h"

#include <algorithm>

#include "core/hot_thread_local.h"
#include "core/profiling.h"

namespace nudge::kernels {

namespace {
thread_local CallRecording* current NUDGE_HOT_THREAD_LOCAL = nullptr;
}  // namespace

CallRecording* active_recording() { return current; }

CallRecording* set_active_recording(CallRecording* recording) {
  CallRecording* previous = current;
  current = recording;
  return previous;
}

const ParamSlot* CallRecording::own_slots(const ParamSlot* slots, std::int64_t count) {
  auto table = std::make_unique<ParamSlot[]>(static_cast<std::size_t>(count));
  std::copy(slots, slots + count, table.get());
  slot_tables_.push_back(std::move(table));
  return slot_tables_.back().get();
}

void CallRecording::replay() const {
  for (const Entry& entry : calls_) {
    std::visit(
        [](const auto& recorded) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(recorded)>, std::monostate>) {
            // Counted as the eager call would be: one backend pass, or one BLAS call.
            if constexpr (std::is_same_v<std::decay_t<decltype(recorded.call)>, MatmulCall>) profiling::count_gemm();
            else profiling::count_kernel();
            recorded.fn(0, recorded.call);
          }
        },
        entry);
  }
}

}  // namespace nudge::kernels

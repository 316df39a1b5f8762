#pragma once
/// CPU graph capture at the backend boundary: while a thread records (core/graph.h), each CPU
/// backend call it makes is appended here, as the plain-data call and the kernel it was bound
/// for, instead of being run. Replay runs the list in order: no allocation, no autograd, no
/// argument checks, no table lookups. Internal to core, like dispatch.h.
#include <cstddef>
#include <memory>
#include <variant>
#include <vector>

#include "kernels/dispatch.h"

namespace nudge::kernels {

class CallRecording {
 public:
  /// Appends one call. An optimizer call's slot table (host memory that dies with the call) is
  /// copied into the recording, so the recorded call never points at freed memory.
  template <class Call> void add(dispatch::KernelFn<Call> fn, const Call& call) {
    Recorded<Call> entry{fn, call};
    if constexpr (std::is_same_v<Call, SgdStepCall> || std::is_same_v<Call, AdamStepCall>)
      entry.call.slots = own_slots(call.slots, call.count);
    calls_.emplace_back(std::move(entry));
  }

  /// Runs every recorded call, in the order recorded.
  void replay() const;
  std::size_t size() const { return calls_.size(); }

 private:
  template <class Call> struct Recorded {
    dispatch::KernelFn<Call> fn;
    Call call;
  };
#define NUDGE_RECORDED_ALTERNATIVE(name, Call) Recorded<Call>,
  using Entry = std::variant<NUDGE_OP_FAMILIES(NUDGE_RECORDED_ALTERNATIVE) std::monostate>;
#undef NUDGE_RECORDED_ALTERNATIVE

  const ParamSlot* own_slots(const ParamSlot* slots, std::int64_t count);

  std::vector<Entry> calls_;
  std::vector<std::unique_ptr<ParamSlot[]>> slot_tables_;
};

/// The recording this thread's CPU backend calls go to, or null when it is not capturing.
CallRecording* active_recording();
/// Makes `recording` (may be null) this thread's; returns the previous one.
CallRecording* set_active_recording(CallRecording* recording);

}  // namespace nudge::kernels

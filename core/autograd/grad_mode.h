#pragma once
/// Thread-local switches for recording (GradMode / NoGradGuard) and for checking backward
/// results (anomaly mode).
namespace nudge {

class GradMode {
 public:
  /// Whether ops record the graph on this thread (true unless a NoGradGuard is alive).
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

namespace autograd {
class AnomalyMode {
 public:
  static bool is_enabled();
  static void set_enabled(bool enabled);
};
}  // namespace autograd

/// Sets a thread-local mode to `kValue` for its lifetime, then restores the previous value.
template <class Mode, bool kValue> class ScopedMode {
 public:
  ScopedMode() : previous_(Mode::is_enabled()) { Mode::set_enabled(kValue); }
  ~ScopedMode() { Mode::set_enabled(previous_); }
  ScopedMode(const ScopedMode&) = delete;
  ScopedMode& operator=(const ScopedMode&) = delete;

 private:
  bool previous_;
};

/// Turns graph recording off for its lifetime (optimizers step under it).
using NoGradGuard = ScopedMode<GradMode, false>;

namespace autograd {
/// While alive, a backward that produces a NaN or Inf gradient throws, naming the op whose
/// backward produced it. Costs a device-to-host copy per gradient: for debugging only.
using DetectAnomalyGuard = ScopedMode<AnomalyMode, true>;
}  // namespace autograd

}  // namespace nudge

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

/// Turns graph recording off for its lifetime (optimizers step under it).
class NoGradGuard {
 public:
  NoGradGuard() : previous_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

namespace autograd {

class AnomalyMode {
 public:
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

/// While alive, a backward that produces a NaN or Inf gradient throws, naming the op whose
/// backward produced it. Costs a device-to-host copy per gradient: for debugging only.
class DetectAnomalyGuard {
 public:
  DetectAnomalyGuard() : previous_(AnomalyMode::is_enabled()) { AnomalyMode::set_enabled(true); }
  ~DetectAnomalyGuard() { AnomalyMode::set_enabled(previous_); }
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace autograd
}  // namespace nudge

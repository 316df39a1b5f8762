#pragma once
/// A training progress display: epoch, batch, loss, throughput and ETA. On a terminal it is one
/// line redrawn in place (at most ten times a second); otherwise (a log file, a pipe, CI) it
/// prints a plain line at each quarter of an epoch, so logs stay short and diffable.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace nudge::monitor {

class ProgressBar {
 public:
  /// `out`: where to draw, or nullptr for a bar that draws nothing and never calls `loss` (the
  /// ranks other than 0 of a distributed job: `env.rank() == 0 ? stdout : nullptr`);
  /// `interactive`: redraw in place (defaults to whether `out` is a terminal).
  ProgressBar(int epochs, std::int64_t batches_per_epoch, std::FILE* out = stdout);
  ProgressBar(int epochs, std::int64_t batches_per_epoch, std::FILE* out, bool interactive);

  /// Call before the first batch of epoch `epoch` (1-based).
  void start_epoch(int epoch);
  /// Call after batch `batch` (1-based) of `samples` examples. `loss` is only called when the
  /// display is redrawn, so reading a GPU loss (a device sync) happens rarely.
  void update(std::int64_t batch, std::int64_t samples, const std::function<double()>& loss);
  /// Ends the epoch's line with the epoch's `loss` (NaN: the last one shown), followed by
  /// `summary` (test accuracy, say).
  void finish_epoch(const std::string& summary = "", double loss = NAN);

  bool interactive() const { return interactive_; }
  /// Draws nothing (made with out == nullptr).
  bool silent() const { return out_ == nullptr; }
  /// The text of the last line drawn (for tests).
  const std::string& last_line() const { return last_line_; }

 private:
  using Clock = std::chrono::steady_clock;
  void draw(std::int64_t batch, double loss, bool final);

  int epochs_;
  std::int64_t batches_;
  std::FILE* out_;
  bool interactive_;
  int epoch_ = 0;
  std::int64_t samples_ = 0;
  double last_loss_ = 0;
  std::int64_t last_batch_ = 0;
  int next_quarter_ = 1;
  Clock::time_point epoch_start_, last_draw_;
  std::string last_line_;
};

/// "1:05", "12:03:09": a duration for humans.
std::string format_duration(double seconds);

}  // namespace nudge::monitor

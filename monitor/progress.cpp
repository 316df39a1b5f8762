#include "monitor/progress.h"

#include <unistd.h>

#include <cmath>

#include "core/error.h"

namespace nudge::monitor {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto total = static_cast<long>(std::lround(seconds));
  char text[32];
  if (total >= 3600) std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60);
  else std::snprintf(text, sizeof text, "%ld:%02ld", total / 60, total % 60);
  return text;
}

ProgressBar::ProgressBar(int epochs, std::int64_t batches_per_epoch, std::FILE* out)
    : ProgressBar(epochs, batches_per_epoch, out, out != nullptr && ::isatty(::fileno(out))) {}

ProgressBar::ProgressBar(int epochs, std::int64_t batches_per_epoch, std::FILE* out, bool interactive)
    : epochs_(epochs), batches_(batches_per_epoch), out_(out), interactive_(interactive) {
  NUDGE_CHECK(epochs > 0 && batches_per_epoch > 0, "ProgressBar: epochs and batches per epoch must be positive, got ",
              epochs, " and ", batches_per_epoch);
}

void ProgressBar::start_epoch(int epoch) {
  epoch_ = epoch;
  samples_ = 0;
  last_batch_ = 0;
  next_quarter_ = 1;
  epoch_start_ = last_draw_ = Clock::now();
}

void ProgressBar::update(std::int64_t batch, std::int64_t samples, const std::function<double()>& loss) {
  samples_ += samples;
  last_batch_ = batch;
  const auto now = Clock::now();
  bool due;
  if (interactive_) {
    due = batch == batches_ || now - last_draw_ >= std::chrono::milliseconds(100);
  } else {
    // Lines at 25%, 50% and 75%; finish_epoch prints the 100% line.
    due = next_quarter_ <= 3 && batch * 4 >= batches_ * next_quarter_;
    while (batch * 4 >= batches_ * next_quarter_) ++next_quarter_;
  }
  if (!due || silent()) return;
  last_draw_ = now;
  last_loss_ = loss();
  draw(batch, last_loss_, false);
}

void ProgressBar::finish_epoch(const std::string& summary, double loss) {
  if (silent()) return;
  if (!std::isnan(loss)) last_loss_ = loss;
  draw(last_batch_, last_loss_, true);
  if (!summary.empty()) {
    last_line_ += "  " + summary;
    std::fprintf(out_, "  %s", summary.c_str());
  }
  std::fprintf(out_, "\n");
  std::fflush(out_);
}

void ProgressBar::draw(std::int64_t batch, double loss, bool final) {
  const double elapsed = std::chrono::duration<double>(Clock::now() - epoch_start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(samples_) / elapsed : 0;
  const double eta = batch > 0 ? elapsed * static_cast<double>(batches_ - batch) / static_cast<double>(batch) : NAN;
  constexpr int kWidth = 20;
  const int filled = static_cast<int>(kWidth * batch / batches_);
  const std::string bar = std::string(static_cast<std::size_t>(filled), '#') + std::string(kWidth - filled, '.');
  char text[256];
  std::snprintf(text, sizeof text, "epoch %d/%d [%s] batch %lld/%lld  loss %.4f  %.0f samples/s  %s %s", epoch_,
                epochs_, bar.c_str(), static_cast<long long>(batch), static_cast<long long>(batches_), loss, rate,
                final ? "took" : "ETA", format_duration(final ? elapsed : eta).c_str());
  last_line_ = text;
  if (interactive_) std::fprintf(out_, "\r\033[K%s", text);  // back to column 0, clear the line
  else if (!final) std::fprintf(out_, "%s\n", text);
  else std::fprintf(out_, "%s", text);
  std::fflush(out_);
}

}  // namespace nudge::monitor

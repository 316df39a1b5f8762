#pragma once
// What every example shares: --device / --csv / --plot options, the loss history, the final
// line `final: name=value ...` that scripts and tests read, and the error guard.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <exception>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nudge/nudge.h>

namespace examples {

struct CommonOptions {
  std::string device = "auto";
  std::string csv;
  std::string plot;
};

inline void add_common_options(CLI::App& app, CommonOptions& options) {
  app.add_option("--device", options.device, "cpu, cuda or cuda:N (default: cuda when present, else cpu)");
  app.add_option("--csv", options.csv, "write the loss history to this CSV file");
  app.add_option("--plot", options.plot, "draw the loss curve into this SVG file");
}

/// "auto" picks cuda:0 when a GPU is usable, else the CPU.
inline nudge::Device resolve_device(const std::string& spec) {
  if (spec == "auto") return nudge::cuda::is_available() ? nudge::Device::cuda(0) : nudge::Device::cpu();
  return nudge::Device(spec);
}

/// (step, loss) rows: streamed to --csv as they come, drawn to --plot by finish().
class LossHistory {
 public:
  explicit LossHistory(const CommonOptions& options, const std::string& step_name = "epoch")
      : log_({step_name, "loss"}, options.csv), plot_path_(options.plot), step_name_(step_name) {}
  void add(long step, double loss) { log_.add({static_cast<double>(step), loss}); }
  /// Writes the loss curve (log scale when it spans more than a decade) if --plot was given.
  void finish(const std::string& title) const {
    if (plot_path_.empty()) return;
    const std::vector<double> loss = log_.column("loss");
    bool log_y = !loss.empty();
    double lo = 1e300, hi = 0;
    for (double v : loss) {
      log_y = log_y && v > 0;
      lo = std::min(lo, v), hi = std::max(hi, v);
    }
    nudge::monitor::write_svg_plot(plot_path_, {{"loss", log_.column(step_name_), loss}},
                                   {.title = title, .x_label = step_name_, .log_y = log_y && hi > 10 * lo});
  }

 private:
  nudge::monitor::MetricsLog log_;
  std::string plot_path_, step_name_;
};

/// Full-batch training: each epoch zeroes the gradients, computes `loss_fn()`, back-propagates and
/// steps; the loss is recorded every epoch and printed every `print_every`. Returns the last loss.
template <class LossFn>
double train_full_batch(nudge::optim::Optimizer& optimizer, int epochs, int print_every, LossHistory& history,
                        LossFn loss_fn) {
  double loss_value = 0;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    optimizer.zero_grad();
    const nudge::Tensor loss = loss_fn();
    loss.backward();
    optimizer.step();
    loss_value = loss.item<double>();
    history.add(epoch, loss_value);
    if (epoch % print_every == 0) std::printf("%6d %12.6f\n", epoch, loss_value);
  }
  return loss_value;
}

/// Prints `final: a=... b=...` with full precision, in the given order.
inline void print_final(const std::vector<std::pair<std::string, double>>& values) {
  std::printf("final:");
  for (const auto& [name, value] : values) std::printf(" %s=%.10g", name.c_str(), value);
  std::printf("\n");
}

/// The one error guard of every example (main's catch): any error, nudge's or the standard
/// library's (a file that cannot be read), becomes a message and exit code 1.
inline int fail(const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}

}  // namespace examples

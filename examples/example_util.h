#pragma once
// What every example shares: --device / --csv / --plot options, the loss history, the final
// line `final: name=value ...` that scripts and tests read, and the error guard.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <limits>
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

// ---- flag checks: a bad value is refused when the flags are parsed, before any work ----------

/// An integer flag of at least `lo` ("--epochs 0" and "--seed -1" are errors, not a silent 0 or a
/// wrapped 2^64 - 1).
inline CLI::Validator integer_at_least(long long lo) {
  return CLI::Validator(
      [lo](std::string& text) -> std::string {
        long long value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error != std::errc() || end != text.data() + text.size()) return "\"" + text + "\" is not an integer";
        if (value < lo) return "must be at least " + std::to_string(lo) + ", got " + text;
        return "";
      },
      "INT>=" + std::to_string(lo));
}

/// A finite number of at least `lo` (a learning rate of nan, inf or -1 is an error).
inline CLI::Validator finite_at_least(double lo) {
  return CLI::Validator(
      [lo](std::string& text) -> std::string {
        char* end = nullptr;
        const double value = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0') return "\"" + text + "\" is not a number";
        if (!std::isfinite(value) || value < lo)
          return "must be a finite number >= " + std::to_string(lo) + ", got " + text;
        return "";
      },
      "NUMBER>=" + std::to_string(lo));
}

/// "256,128" -> {256, 128}; an empty item ("1,,2") or a size below 1 is an error naming `flag`.
inline std::vector<std::int64_t> parse_sizes(const std::string& text, const std::string& flag) {
  std::vector<std::int64_t> sizes;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::int64_t size = 0;
    const auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), size);
    if (item.empty() || error != std::errc() || end != item.data() + item.size() || size < 1)
      throw nudge::Error(flag + ": \"" + text + "\" must be a comma-separated list of sizes >= 1 (item \"" + item +
                         "\")");
    sizes.push_back(size);
    if (comma == std::string::npos) return sizes;
    start = comma + 1;
  }
}

/// Fails before any training when `path` (an output file) cannot be created: its folder must exist
/// and be writable. Empty paths (the option not given) pass.
inline void check_writable(const std::string& path, const std::string& flag) {
  if (path.empty()) return;
  const std::filesystem::path target(path);
  const std::filesystem::path dir = target.parent_path().empty() ? "." : target.parent_path();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw nudge::IOError(flag + " " + path + ": the folder " + dir.string() + " does not exist");
  if (std::filesystem::is_directory(target, ec)) throw nudge::IOError(flag + " " + path + " is a folder, not a file");
  if (::access(dir.c_str(), W_OK) != 0)
    throw nudge::IOError(flag + " " + path + ": the folder " + dir.string() + " is not writable");
}

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

/// The device the common options name, with --csv and --plot checked writable: call right after
/// parsing, so a bad flag fails before any data is loaded or any epoch is trained.
inline nudge::Device check_common_options(const CommonOptions& options) {
  check_writable(options.csv, "--csv");
  check_writable(options.plot, "--plot");
  return resolve_device(options.device);
}

/// Stops a run whose loss is no longer a number: the message says when, and the program exits 1.
inline void require_finite_loss(double loss, long step, const char* step_name = "epoch") {
  if (!std::isfinite(loss))
    throw nudge::NonFiniteError("training diverged: the loss is " + std::to_string(loss) + " at " + step_name + " " +
                                std::to_string(step) + " (try a smaller learning rate)");
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
    require_finite_loss(loss_value, epoch);
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

#pragma once
// What every example shares: --device / --csv options, the loss history, and the final line
// `final: name=value ...` that scripts and tests read.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nudge/nudge.h>

namespace examples {

struct CommonOptions {
  std::string device = "auto";
  std::string csv;
};

inline void add_common_options(CLI::App& app, CommonOptions& options) {
  app.add_option("--device", options.device, "cpu, cuda or cuda:N (default: cuda when present, else cpu)");
  app.add_option("--csv", options.csv, "write the loss history to this CSV file");
}

/// "auto" picks cuda:0 when a GPU is usable, else the CPU.
inline nudge::Device resolve_device(const std::string& spec) {
  if (spec == "auto") return nudge::cuda::is_available() ? nudge::Device::cuda(0) : nudge::Device::cpu();
  return nudge::Device(spec);
}

/// (step, loss) pairs, written as CSV with a header.
class LossHistory {
 public:
  void add(long step, double loss) { rows_.emplace_back(step, loss); }
  void write_csv(const std::string& path, const std::string& step_name = "epoch") const {
    if (path.empty()) return;
    std::ofstream out(path);
    if (!out) throw nudge::Error("cannot write " + path);
    out << step_name << ",loss\n";
    out.precision(17);
    for (const auto& [step, loss] : rows_) out << step << ',' << loss << '\n';
  }

 private:
  std::vector<std::pair<long, double>> rows_;
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

/// Runs `body`, turning a nudge::Error into a message and exit code 1.
template <class Body>
int run_example(int argc, char** argv, const char* description, Body body) {
  CLI::App app(description);
  CommonOptions common;
  add_common_options(app, common);
  auto run = body(app, common);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    run();
    return 0;
  } catch (const nudge::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

}  // namespace examples

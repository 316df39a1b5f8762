// XOR trained two ways on one device: eager (every op dispatched, allocated and recorded for
// autograd by the host, step by step) and as a nudge::Graph (the whole step captured once, then
// replayed: on the GPU one CUDA graph launch, on the CPU the recorded kernel calls run back to
// back). Both runs start from the same weights and must end with the same weights, bit for bit;
// the difference is the time per step.
#include <chrono>
#include <cmath>

#include "example_util.h"

namespace {

using Clock = std::chrono::steady_clock;

/// The 2-16-1 sigmoid MLP, its static input/target buffers and its optimizer.
struct XorRun {
  nudge::nn::Sequential model;
  nudge::optim::SGD sgd;
  nudge::Tensor x, y, loss;

  XorRun(nudge::Device device, int hidden, double lr, std::uint64_t seed)
      : model(make_model(device, hidden, seed)),
        sgd(model.parameters(), {.lr = lr, .momentum = 0.9}),
        x(nudge::tensor({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2}, nudge::TensorOptions().device(device))),
        y(nudge::tensor({0, 1, 1, 0}, {4, 1}, nudge::TensorOptions().device(device))) {}

  static nudge::nn::Sequential make_model(nudge::Device device, int hidden, std::uint64_t seed) {
    nudge::manual_seed(seed);
    nudge::nn::Sequential m(nudge::nn::Linear(2, hidden, nudge::nn::Activation::Sigmoid),
                            nudge::nn::Linear(hidden, 1, nudge::nn::Activation::Sigmoid));
    m.to(device);
    return m;
  }

  void step() {
    sgd.zero_grad();
    loss = nudge::nn::mse_loss(model(x), y);
    loss.backward();
    sgd.step();
  }
};

void wait_for(nudge::Device device) {
  if (device.is_cuda()) nudge::cuda::synchronize(device.index());
}

/// Runs `steps` steps with `one_step`, printing the loss every `print_every` (outside the timed
/// part: reading a value waits for the device). Returns microseconds per step.
template <class Step>
double train(const char* name, int steps, int print_every, XorRun& run, Step one_step, examples::LossHistory* history) {
  double seconds = 0;
  for (int done = 0; done < steps;) {
    const int chunk = std::min(print_every, steps - done);
    wait_for(run.x.device());
    const auto start = Clock::now();
    for (int i = 0; i < chunk; ++i) one_step();
    wait_for(run.x.device());
    seconds += std::chrono::duration<double>(Clock::now() - start).count();
    done += chunk;
    const double loss = run.loss.item<double>();
    examples::require_finite_loss(loss, done, "step");
    if (history) history->add(done, loss);
    std::printf("%-6s %6d %12.6f\n", name, done, loss);
  }
  return seconds / steps * 1e6;
}

double max_parameter_difference(XorRun& a, XorRun& b) {
  double diff = 0;
  const auto pa = a.model.parameters(), pb = b.model.parameters();
  for (std::size_t i = 0; i < pa.size(); ++i)
    diff = std::max(diff, nudge::max(nudge::abs(pa[i] - pb[i])).item<double>());
  return diff;
}

}  // namespace

int main(int argc, char** argv) try {
  CLI::App app("XOR trained eagerly and as a replayed graph");
  examples::CommonOptions common;
  examples::add_common_options(app, common);
  int steps = 2000;
  int hidden = 16;
  double lr = 0.5;
  std::uint64_t seed = 0;
  app.add_option("--steps", steps, "training steps of each run")->check(examples::integer_at_least(1));
  app.add_option("--hidden", hidden, "hidden units")->check(examples::integer_at_least(1));
  app.add_option("--lr", lr, "learning rate")->check(examples::finite_at_least(0));
  app.add_option("--seed", seed, "initialisation seed")->check(examples::integer_at_least(0));
  CLI11_PARSE(app, argc, argv);

  const nudge::Device device = examples::check_common_options(common);
  const int print_every = std::max(1, steps / 5);
  std::printf("device: %s, 2-%d-1 sigmoid MLP on XOR (batch 4), SGD momentum 0.9, %d steps\n\n%-6s %6s %12s\n",
              device.str().c_str(), hidden, steps, "run", "step", "loss");
  examples::LossHistory history(common, "step");

  XorRun eager(device, hidden, lr, seed);
  const double eager_us = train(
      "eager", steps, print_every, eager, [&] { eager.step(); }, &history);
  std::printf("eager: %.2f us per step\n\n", eager_us);
  history.finish("XOR, eager steps");

  XorRun graphed(device, hidden, lr, seed);
  graphed.step();  // one eager step: it creates the momentum buffers, which a replay must not recreate
  nudge::Graph graph(device);
  graph.capture([&] { graphed.step(); });
  int first = 1;
  const double graph_us = train(
      "graph", steps, print_every, graphed, [&] { first-- > 0 ? void() : graph.replay(); }, nullptr);
  // `first` skipped one replay in the first chunk: the eager step above was step 1.
  const double diff = max_parameter_difference(eager, graphed);
  std::printf("graph: %.2f us per step, %.1fx the eager speed; largest parameter difference %.3g\n", graph_us,
              eager_us / graph_us, diff);
  examples::print_final({{"eager_us_per_step", eager_us},
                         {"graph_us_per_step", graph_us},
                         {"speedup", eager_us / graph_us},
                         {"max_param_diff", diff},
                         {"loss", graphed.loss.item<double>()}});
  return 0;
} catch (const std::exception& e) {
  return examples::fail(e);
}

// Whole training steps (forward, loss, backward, SGD-momentum step) of three MLPs on every
// available device, eagerly and as a replayed nudge::Graph (a CUDA graph on the GPU, the recorded
// backend calls on the CPU): samples/s and TFLOP/s.
//   tiny    2-16-1, sigmoid, MSE, batch 4 (the AND/XOR size: all overhead, no arithmetic)
//   medium  784-256-128-10, ReLU, cross-entropy, batch 64..4096 (Fashion-MNIST)
//   large   4096-4096-4096-10, ReLU, cross-entropy, batch 1024..8192 (arithmetic-bound)
#include "bench_util.h"

namespace {

using namespace nudge;
using bench::add;

struct MlpSpec {
  std::string name;
  std::vector<std::int64_t> widths;
  bool tiny;  // sigmoid + MSE on one output, else ReLU + cross-entropy
};

/// One model, its static batch and optimizer, and the step all variants run.
struct Training {
  nn::Sequential model;
  optim::SGD sgd;
  Tensor x, y, loss;
  bool tiny;

  Training(const MlpSpec& spec, std::int64_t batch, Device device)
      : model(build(spec)), sgd(params_on(model, device), {.lr = 0.01, .momentum = 0.9}), tiny(spec.tiny) {
    Generator gen(1);
    x = randn({batch, spec.widths.front()}, gen).to(device);
    if (tiny) {
      y = rand({batch, 1}, gen).to(device);
    } else {
      std::vector<std::int64_t> labels(static_cast<std::size_t>(batch));
      for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int64_t>(i % 10);
      y = from_vector(labels, {batch}).to(device);
    }
  }

  static nn::Sequential build(const MlpSpec& spec) {
    manual_seed(0);
    nn::Sequential m;
    for (std::size_t i = 0; i + 1 < spec.widths.size(); ++i) {
      const bool last = i + 2 == spec.widths.size();
      const nn::Activation act = spec.tiny ? nn::Activation::Sigmoid
                                 : last    ? nn::Activation::Identity
                                           : nn::Activation::ReLU;
      m.push_back(nn::Linear(spec.widths[i], spec.widths[i + 1], act));
    }
    return m;
  }
  static std::vector<Tensor> params_on(nn::Sequential& m, Device device) {
    m.to(device);
    return m.parameters();
  }

  void step() {
    sgd.zero_grad();
    const Tensor out = model(x);
    loss = tiny ? nn::mse_loss(out, y) : nn::cross_entropy(out, y);
    loss.backward();
    sgd.step();
  }
};

double flops_per_step(const MlpSpec& spec, std::int64_t batch) {
  double weights = 0;
  for (std::size_t i = 0; i + 1 < spec.widths.size(); ++i)
    weights += double(spec.widths[i]) * double(spec.widths[i + 1]);
  return 6.0 * double(batch) * weights;  // forward 2, backward 4 per weight and sample
}

void register_training(Device device) {
  const bool quick = bench::quick();
  std::vector<std::pair<MlpSpec, std::vector<std::int64_t>>> runs = {
      {{"tiny_2-16-1", {2, 16, 1}, true}, {4}},
      {{"medium_784-256-128-10", {784, 256, 128, 10}, false},
       quick ? std::vector<std::int64_t>{64} : std::vector<std::int64_t>{64, 256, 1024, 4096}}};
  if (!quick)
    runs.push_back(
        {{"large_4096-4096-4096-10", {4096, 4096, 4096, 10}, false},
         device.is_cuda() ? std::vector<std::int64_t>{1024, 2048, 4096, 8192} : std::vector<std::int64_t>{1024}});
  for (const auto& [spec, batches] : runs) {
    for (const std::int64_t batch : batches) {
      const std::string name = "train/" + spec.name + "/b" + std::to_string(batch) + "/" + bench::tag(device);
      add(name + "/eager", [=](benchmark::State& state) {
        Training t(spec, batch, device);
        t.step();
        bench::run_timed(state, device, [&] { t.step(); });
        bench::set_samples(state, double(batch));
        bench::set_flops(state, flops_per_step(spec, batch));
      });
      add(name + "/graph", [=](benchmark::State& state) {
        Training t(spec, batch, device);
        t.step();  // eager first: momentum buffers and cuBLAS state exist before the capture
        Graph graph(device);
        graph.capture([&] { t.step(); });
        graph.replay();
        bench::run_timed(state, device, [&] { graph.replay(); });
        bench::set_samples(state, double(batch));
        bench::set_flops(state, flops_per_step(spec, batch));
      });
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (const Device device : bench::devices()) register_training(device);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}

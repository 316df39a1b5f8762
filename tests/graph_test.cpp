// cuda::Graph: a captured training step replays to the same numbers as eager steps, with static
// inputs fed by copy_, one launch per replay, and clear errors for what a graph cannot hold.
#include "test_util.h"

namespace nudge::testing {
namespace {

/// The XOR network of the examples: 2-16-1, sigmoid, MSE, SGD with Nesterov momentum.
struct XorTraining {
  nn::Sequential model;
  optim::SGD sgd;
  Tensor x, y, loss;

  explicit XorTraining(Device device)
      : model(make_model(device)),
        sgd(model.parameters(), {.lr = 0.5, .momentum = 0.9, .nesterov = true}),
        x(tensor({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2}, TensorOptions().device(device))),
        y(tensor({0, 1, 1, 0}, {4, 1}, TensorOptions().device(device))) {}

  static nn::Sequential make_model(Device device) {
    manual_seed(7);
    nn::Sequential m(nn::Linear(2, 16, nn::Activation::Sigmoid), nn::Linear(16, 1, nn::Activation::Sigmoid));
    m.to(device);
    return m;
  }

  void step() {
    sgd.zero_grad();
    loss = nn::mse_loss(model(x), y);
    loss.backward();
    sgd.step();
  }
};

TEST(CudaGraph, HundredReplaysEqualHundredEagerSteps) {
  NUDGE_REQUIRE_CUDA();
  XorTraining eager(Device::cuda(0)), graphed(Device::cuda(0));
  eager.step();
  graphed.step();  // the first step creates the momentum buffers, eagerly
  cuda::Graph graph;
  graph.capture([&] { graphed.step(); });
  for (int i = 0; i < 100; ++i) {
    eager.step();
    graph.replay();
  }
  const auto a = eager.model.parameters(), b = graphed.model.parameters();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(all_close(a[i], b[i], 1e-6, 1e-6)) << "parameter " << i;
  // The loss captured in the graph holds the last replay's value.
  EXPECT_NEAR(graphed.loss.item<double>(), eager.loss.item<double>(), 1e-6);
  EXPECT_LT(graphed.loss.item<double>(), 0.25);  // and it has learned something
}

TEST(CudaGraph, StaticInputsFeedNewDataAndOneReplayIsOneLaunch) {
  NUDGE_REQUIRE_CUDA();
  const TensorOptions on = TensorOptions(kFloat64).device(Device::cuda(0));
  Tensor input = zeros({1000}, on), output;
  cuda::Graph graph;
  graph.capture([&] { output = sigmoid(input * 2 + 1); });
  for (const double v : {0.0, -0.5, 3.0}) {
    input.copy_(full({1000}, v, kFloat64));
    profiling::LaunchCounter counter;
    graph.replay();
    EXPECT_EQ(counter.counts().kernels, 1);
    EXPECT_NEAR(output.to_vector<double>()[999], 1 / (1 + std::exp(-(2 * v + 1))), 1e-12);
  }
}

TEST(CudaGraph, TensorsFromACaptureOutliveTheGraph) {
  NUDGE_REQUIRE_CUDA();
  const Tensor input = full({256}, 3.0, TensorOptions().device(Device::cuda(0)));
  Tensor output;
  {
    cuda::Graph graph;
    graph.capture([&] { output = input * input; });
    graph.replay();
  }
  EXPECT_TRUE(values_are(output.sum(), {9.0 * 256}, 1e-3));
}

TEST(CudaGraph, ReadingValuesInsideACaptureIsAClearError) {
  NUDGE_REQUIRE_CUDA();
  const Tensor input = ones({8}, TensorOptions().device(Device::cuda(0)));
  cuda::Graph graph;
  EXPECT_TRUE(throws_error_with([&] { graph.capture([&] { (void)(input * 2).sum().item<double>(); }); },
                                {"cuda::Graph::capture", "no item()"}));
  EXPECT_FALSE(graph.captured());
  EXPECT_FALSE(cuda::is_capturing(0));
  // The device is usable afterwards.
  EXPECT_TRUE(values_are((input * 2).sum(), {16}));
}

TEST(CudaGraph, OptimizerStepsThatCannotReplayAreRefused) {
  NUDGE_REQUIRE_CUDA();
  XorTraining fresh(Device::cuda(0));
  cuda::Graph graph;
  EXPECT_TRUE(throws_error_with([&] { graph.capture([&] { fresh.step(); }); }, {"SGD", "first step", "eager step"}));
  nn::Linear layer(3, 2);
  layer.to(Device::cuda(0));
  optim::Adam adam(layer.parameters(), {});
  const Tensor x = ones({4, 3}, TensorOptions().device(Device::cuda(0)));
  EXPECT_TRUE(throws_error_with(
      [&] {
        graph.capture([&] {
          layer(x).sum().backward();
          adam.step();
        });
      },
      {"Adam", "bias correction", "cuda::Graph"}));
}

TEST(CudaGraph, WithoutAGpuCaptureSaysWhy) {
  cuda::Graph graph;
  EXPECT_TRUE(throws_error_with([&] { graph.replay(); }, {"cuda::Graph::replay", "nothing was captured"}));
  if (cuda::is_available()) GTEST_SKIP() << "a GPU is present: this checks the message given without one";
  EXPECT_TRUE(throws_error_with([&] { graph.capture([] {}); }, {"cuda:0", "CUDA"}));
  EXPECT_FALSE(cuda::is_capturing(0));
}

}  // namespace
}  // namespace nudge::testing

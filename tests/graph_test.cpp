// nudge::Graph on every device: a captured training step replays to the same bits as eager steps
// (SGD, momentum, Nesterov, Adam, AdamW, with schedulers changing the rate between replays), static
// inputs are fed by copy_, tensors made in a capture outlive the graph, and what a graph cannot
// hold (host reads, random numbers, first steps, nested captures) is a clear error.
#include <thread>

#include "test_util.h"

namespace nudge::testing {
namespace {

/// The XOR network of the examples: 2-16-1, sigmoid, MSE, one optimizer of the given kind.
struct XorTraining {
  nn::Sequential model;
  std::unique_ptr<optim::Optimizer> optimizer;
  Tensor x, y, loss;

  XorTraining(Device device, const std::string& kind)
      : model(make_model(device)),
        optimizer(make_optimizer(kind, model.parameters())),
        x(tensor({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2}, TensorOptions().device(device))),
        y(tensor({0, 1, 1, 0}, {4, 1}, TensorOptions().device(device))) {}

  static nn::Sequential make_model(Device device) {
    manual_seed(7);
    nn::Sequential m(nn::Linear(2, 16, nn::Activation::Sigmoid), nn::Linear(16, 1, nn::Activation::Sigmoid));
    m.to(device);
    return m;
  }

  static std::unique_ptr<optim::Optimizer> make_optimizer(const std::string& kind, std::vector<Tensor> params) {
    if (kind == "sgd") return std::make_unique<optim::SGD>(std::move(params), optim::SGDOptions{.lr = 0.5});
    if (kind == "momentum")
      return std::make_unique<optim::SGD>(std::move(params),
                                          optim::SGDOptions{.lr = 0.5, .momentum = 0.9, .weight_decay = 1e-3});
    if (kind == "nesterov")
      return std::make_unique<optim::SGD>(std::move(params),
                                          optim::SGDOptions{.lr = 0.5, .momentum = 0.9, .nesterov = true});
    if (kind == "adam") return std::make_unique<optim::Adam>(std::move(params), optim::AdamOptions{.lr = 0.05});
    return std::make_unique<optim::AdamW>(std::move(params), optim::AdamWOptions{.lr = 0.05});
  }

  void step() {
    optimizer->zero_grad();
    loss = nn::mse_loss(model(x), y);
    loss.backward();
    optimizer->step();
  }
};

/// Same parameters, bit for bit.
void expect_same_bits(XorTraining& a, XorTraining& b) {
  const auto pa = a.model.parameters(), pb = b.model.parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(all_close(pa[i], pb[i], 0, 0)) << "parameter " << i;
  EXPECT_TRUE(all_close(a.loss, b.loss, 0, 0)) << "loss";
}

using GraphTest = DeviceTest;

// The hooks a captured step registers (optimizers refresh their rates before each replay; an NCCL
// communicator watches each replay after it is queued) run once per replay, in that order, and
// never outside a capture.
TEST_P(GraphTest, HooksRegisteredByTheStepRunAroundEveryReplay) {
  std::vector<std::string> calls;
  Graph::before_each_replay([&] { calls.push_back("ignored: not capturing"); });
  Graph::after_each_replay([&] { calls.push_back("ignored: not capturing"); });
  Tensor x = ones({4}, options()), y;
  Graph graph(device());
  graph.capture([&] {
    Graph::before_each_replay([&] { calls.push_back("before"); });
    Graph::after_each_replay([&] { calls.push_back("after"); });
    y = x * 2;
  });
  EXPECT_TRUE(calls.empty());
  graph.replay();
  graph.replay();
  EXPECT_EQ(calls, (std::vector<std::string>{"before", "after", "before", "after"}));
  EXPECT_TRUE(values_are(y, {2, 2, 2, 2}));
}

// The fused Linear backward over many rows sums its bias gradient over row chunks and resets a
// per-tile arrival counter at the end of each launch: replays with new inputs each time must give
// the eager gradients (a counter left set would corrupt the second replay's bias gradient).
TEST_P(GraphTest, FusedLinearBackwardReplaysWithNewInputsEachTime) {
  const auto opts = TensorOptions(kFloat64).device(device());
  Generator gen(3);
  Tensor w = randn({40, 24}, gen, opts).requires_grad_(), b = randn({40}, gen, opts).requires_grad_();
  Tensor x = zeros({1000, 24}, opts), loss;
  optim::SGD clear({w, b}, {.lr = 0});  // zero_grad as a training step does it
  auto step = [&] {
    clear.zero_grad();
    const Tensor y = linear(x, w, b, Activation::Tanh);
    loss = sum(y * y);
    loss.backward();
  };
  x.copy_(randn({1000, 24}, gen, opts));
  step();  // the gradients exist before the capture (a captured step accumulates into them)
  Graph graph(device());
  graph.capture(step);
  for (int round = 0; round < 3; ++round) {
    const Tensor input = randn({1000, 24}, gen, opts);
    x.copy_(input);
    graph.replay();
    const Tensor gw = w.grad().clone(), gb = b.grad().clone(), replayed_loss = loss.clone();
    Tensor we = w.detach().clone().requires_grad_(), be = b.detach().clone().requires_grad_();
    const Tensor ye = linear(input, we, be, Activation::Tanh);
    const Tensor eager_loss = sum(ye * ye);
    eager_loss.backward();
    EXPECT_TRUE(all_close(replayed_loss, eager_loss, 1e-9, 1e-12)) << "round " << round;
    EXPECT_TRUE(all_close(gw, we.grad(), 1e-9, 1e-12)) << "round " << round;
    EXPECT_TRUE(all_close(gb, be.grad(), 1e-9, 1e-12)) << "round " << round;
  }
}

TEST_P(GraphTest, ThousandReplaysEqualThousandEagerStepsBitForBit) {
  for (const std::string kind : {"sgd", "momentum", "nesterov", "adam", "adamw"}) {
    SCOPED_TRACE(kind);
    XorTraining eager(device(), kind), graphed(device(), kind);
    eager.step();
    graphed.step();  // the first step creates the optimizer's state, eagerly
    Graph graph(device());
    graph.capture([&] { graphed.step(); });
    for (int i = 0; i < 1000; ++i) {
      eager.step();
      graph.replay();
    }
    expect_same_bits(eager, graphed);
    EXPECT_LT(graphed.loss.item<double>(), 0.24) << "and it has learned (chance is 0.25)";
  }
}

TEST_P(GraphTest, SchedulersAndRateChangesReachTheReplayedStep) {
  for (const std::string kind : {"momentum", "adam"}) {
    SCOPED_TRACE(kind);
    XorTraining eager(device(), kind), graphed(device(), kind);
    optim::StepLR eager_schedule(*eager.optimizer, 50, 0.5), graphed_schedule(*graphed.optimizer, 50, 0.5);
    eager.step();
    graphed.step();
    Graph graph(device());
    graph.capture([&] { graphed.step(); });
    for (int i = 0; i < 300; ++i) {
      eager.step();
      graph.replay();
      eager_schedule.step();
      graphed_schedule.step();
      if (i == 200) {  // set_lr and a direct write of a group's rate reach the replay too
        eager.optimizer->set_lr(0.01);
        graphed.optimizer->set_lr(0.01);
      }
      if (i == 250) eager.optimizer->param_groups()[0].lr = graphed.optimizer->param_groups()[0].lr = 0.2;
    }
    expect_same_bits(eager, graphed);
  }
}

TEST_P(GraphTest, AdamCountsReplayedStepsInItsState) {
  XorTraining graphed(device(), "adam");
  graphed.step();
  Graph graph(device());
  graph.capture([&] { graphed.step(); });
  for (int i = 0; i < 20; ++i) graph.replay();
  for (const auto& [key, value] : graphed.optimizer->state_dict())
    if (key.ends_with(".step")) {
      EXPECT_EQ(value.item<std::int64_t>(), 21) << key;
    }
}

TEST_P(GraphTest, StaticInputsFeedNewDataAndAReplayRunsOnlyTheRecordedKernels) {
  const TensorOptions on = options(kFloat64);
  Tensor input = zeros({1000}, on), output;
  Graph graph(device());
  graph.capture([&] { output = sigmoid(input * 2 + 1); });
  EXPECT_TRUE(graph.captured());
  for (const double v : {0.0, -0.5, 3.0}) {
    input.copy_(full({1000}, v, kFloat64));
    const std::int64_t live = memory::live_bytes(device());
    profiling::LaunchCounter counter;
    graph.replay();
    // CUDA: one graph launch; CPU: the three recorded passes (mul, add, sigmoid), nothing else.
    EXPECT_EQ(counter.counts().kernels, device().is_cuda() ? 1 : 3);
    EXPECT_EQ(memory::live_bytes(device()), live) << "a replay allocates nothing";
    EXPECT_NEAR(output.to_vector<double>()[999], 1 / (1 + std::exp(-(2 * v + 1))), 1e-12);
  }
  if (device().is_cpu()) {
    EXPECT_EQ(graph.recorded_calls(), 3U);
  }
}

TEST_P(GraphTest, CapturingRecordsWithoutRunning) {
  Tensor counter = zeros({4}, options());
  Graph graph(device());
  graph.capture([&] { counter.add_(1); });
  EXPECT_TRUE(values_are(counter, {0, 0, 0, 0}));
  graph.replay();
  graph.replay();
  EXPECT_TRUE(values_are(counter, {2, 2, 2, 2}));
}

TEST_P(GraphTest, TensorsFromACaptureOutliveTheGraph) {
  const Tensor input = full({256}, 3.0, options());
  Tensor output, constant = full({2}, 1.5, options());
  {
    Graph graph(device());
    graph.capture([&] {
      // On the CPU a constant made from host values inside the step is written at capture time,
      // and its memory is never reused, so each replay reads it (a CUDA capture cannot copy from
      // the host, so there it is made by a kernel).
      if (device().is_cpu()) constant = tensor({1.0, 2.0}, {2}, options());
      output = input * input + constant.sum();
    });
    graph.replay();
    graph.replay();
  }
  EXPECT_TRUE(values_are(output.sum(), {12.0 * 256}, 1e-3));
  EXPECT_TRUE(values_are(constant.sum(), {3}));
  output.add_(1);  // still writable memory
  EXPECT_TRUE(values_are(output.sum(), {13.0 * 256}, 1e-3));
}

TEST_P(GraphTest, ReadingValuesInsideACaptureIsAClearError) {
  const Tensor input = ones({8}, options());
  Graph graph(device());
  EXPECT_TRUE(throws_error_with([&] { graph.capture([&] { (void)(input * 2).sum().item<double>(); }); },
                                {"Graph::capture", device().str(), "no item()"}));
  EXPECT_FALSE(graph.captured());
  EXPECT_FALSE(is_capturing(device()));
  EXPECT_TRUE(values_are((input * 2).sum(), {16}));  // the device is usable afterwards
}

TEST_P(GraphTest, OptimizerFirstStepsAreRefused) {
  for (const std::string kind : {"momentum", "adam", "sgd"}) {
    SCOPED_TRACE(kind);
    XorTraining fresh(device(), kind);
    Graph graph(device());
    EXPECT_TRUE(throws_error_with([&] { graph.capture([&] { fresh.step(); }); }, {"first step", "eager step"}));
    EXPECT_FALSE(is_capturing(device()));
  }
}

TEST_P(GraphTest, NestedCapturesAreRefusedAndTheOuterOneGoesOn) {
  Tensor x = ones({3}, options());
  Graph outer(device()), inner(device());
  outer.capture([&] {
    x.mul_(2);
    EXPECT_TRUE(throws_error_with([&] { inner.capture([&] { x.add_(1); }); }, {"nested"}));
    x.mul_(3);
  });
  outer.replay();
  EXPECT_TRUE(values_are(x, {6, 6, 6}));
}

TEST(CpuGraph, RandomNumbersAndDeviceCopiesInsideACaptureAreRefused) {
  Graph graph(Device::cpu());
  EXPECT_TRUE(throws_error_with([&] { graph.capture([] { (void)randn({4}); }); }, {"random numbers", "Graph"}));
  nn::Dropout dropout(0.5);
  const Tensor x = ones({4});
  EXPECT_TRUE(throws_error_with([&] { graph.capture([&] { (void)dropout(x); }); }, {"random numbers"}));
  EXPECT_TRUE(throws_error_with([&] { graph.capture([&] { (void)x.to(kCUDA); }); }, {"copying between devices"}));
  EXPECT_TRUE(throws_error_with([&] { graph.capture([&] { (void)x.to_vector<float>(); }); }, {"to_vector"}));
  EXPECT_FALSE(graph.captured());
  (void)randn({4});  // and the thread draws again afterwards
}

TEST(CpuGraph, OtherThreadsRunTheirOwnWorkWhileOneCaptures) {
  Tensor x = ones({5});
  double seen = 0;
  Graph graph(Device::cpu());
  graph.capture([&] {
    x.add_(1);
    std::thread other([&] { seen = (ones({5}) * 7).sum().item<double>(); });  // runs now, not recorded
    other.join();
  });
  EXPECT_EQ(seen, 35);
  EXPECT_EQ(graph.recorded_calls(), 1U);
  graph.replay();
  EXPECT_TRUE(values_are(x, {2, 2, 2, 2, 2}));
}

TEST(CpuGraph, ACpuCaptureRefusesCudaWork) {
  NUDGE_REQUIRE_CUDA();
  const Tensor g = ones({4}, kCUDA);
  Graph graph(Device::cpu());
  EXPECT_TRUE(throws_error_with([&] { graph.capture([&] { (void)(g * 2); }); }, {"CPU", "cuda:0"}));
}

TEST(CpuGraph, ReplayIsRefusedInsideACaptureAndWithoutOne) {
  Graph graph(Device::cpu()), other(Device::cpu());
  EXPECT_TRUE(throws_error_with([&] { graph.replay(); }, {"Graph::replay", "nothing was captured"}));
  Tensor x = ones({2});
  graph.capture([&] { x.add_(1); });
  EXPECT_TRUE(throws_error_with([&] { other.capture([&] { graph.replay(); }); }, {"inside a CPU capture"}));
}

TEST(CudaGraph, TheCudaSpellingStillWorksAndSaysWhyWithoutAGpu) {
  cuda::Graph graph;
  EXPECT_TRUE(throws_error_with([&] { graph.replay(); }, {"Graph::replay", "nothing was captured"}));
  if (cuda::is_available()) {
    Tensor x = ones({3}, kCUDA);
    graph.capture([&] { x.mul_(2); });
    graph.replay();
    EXPECT_TRUE(values_are(x, {2, 2, 2}));
    return;
  }
  EXPECT_TRUE(throws_error_with([&] { graph.capture([] {}); }, {"cuda:0", "CUDA"}));
  EXPECT_FALSE(cuda::is_capturing(0));
}

INSTANTIATE_TEST_SUITE_P(Devices, GraphTest, ::testing::ValuesIn(test_devices()), device_param_name);

}  // namespace
}  // namespace nudge::testing

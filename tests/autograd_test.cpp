// Autograd: the Tensor API, the engine's guarantees (fan-in, un-broadcasting, retain_graph,
// no recursion, no cycles, version checks, anomaly mode) and gradcheck itself.
#include <thread>

#include "test_util.h"

namespace nudge::testing {
namespace {

class AutogradTest : public DeviceTest {
 protected:
  Tensor leaf(const std::vector<double>& values, Shape shape, DType dt = kFloat64) const {
    return tensor(values, std::move(shape), options(dt)).requires_grad_();
  }
};

// The README's custom op, verbatim: one node, its own backward, gradcheck passes.
Tensor softsign(const Tensor& x) {
  Tensor y;
  {
    NoGradGuard no_grad;  // the ops of the forward record nothing
    y = x / (abs(x) + 1);
  }
  autograd::record("softsign", y, {&x}, [x_ = autograd::SavedTensor(x, "softsign")](const Tensor& g) {
    const Tensor d = abs(x_.get()) + 1;
    return autograd::Grads{g / (d * d)};  // one gradient per input
  });
  return y;
}

TEST(Autograd, ReadmeCustomOpPassesGradcheck) {
  const auto check = autograd::gradcheck([](const std::vector<Tensor>& in) { return softsign(in[0]); },
                                         {randn({3, 4}, kFloat64).requires_grad_()});
  EXPECT_TRUE(check.ok) << check.report;
  const Tensor x = tensor({-3.0, 0.0, 1.0}, kFloat64).requires_grad_();
  const Tensor y = softsign(x);
  EXPECT_EQ(y.grad_fn()->name(), "softsign");
  EXPECT_TRUE(values_are(y, {-0.75, 0, 0.5}, 1e-15));
  // A wrong backward is caught: gradcheck is not a test that cannot fail.
  const auto wrong = autograd::gradcheck(
      [](const std::vector<Tensor>& in) {
        Tensor out = in[0] * 2.0;
        Tensor detached = out.detach();
        autograd::record("wrong", detached, {&in[0]}, [](const Tensor& g) { return autograd::Grads{g * 3.0}; });
        return detached;
      },
      {randn({3}, kFloat64).requires_grad_()});
  EXPECT_FALSE(wrong.ok);
}

// The hooks distributed training relies on: after each accumulation, in order; removed with their
// handle; a callback queued from a hook runs once the whole graph is done.
TEST(Autograd, PostAccumulateHooksAndQueuedCallbacks) {
  Tensor w = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor b = tensor({0.5}, kFloat64).requires_grad_();
  std::vector<std::string> events;
  autograd::HookHandle on_w = autograd::add_post_accumulate_grad_hook(w, [&](const Tensor& leaf) {
    events.push_back("w " + std::to_string(leaf.grad().to_vector<double>()[0]));
    autograd::queue_callback([&] { events.push_back("end, b.grad " + std::to_string(b.grad().item<double>())); });
  });
  autograd::HookHandle second =
      autograd::add_post_accumulate_grad_hook(w, [&](const Tensor&) { events.push_back("w2"); });
  (sum(w * 3) + b * 2).sum().backward();
  EXPECT_EQ(events, (std::vector<std::string>{"w 3.000000", "w2", "end, b.grad 2.000000"}));
  events.clear();
  second.remove();
  (w * w).sum().backward();  // accumulates: 3 + 2·1
  EXPECT_EQ(events, (std::vector<std::string>{"w 5.000000", "end, b.grad 2.000000"}));
  events.clear();
  { autograd::HookHandle gone = std::move(on_w); }
  (w * w).sum().backward();
  EXPECT_TRUE(events.empty());
  EXPECT_TRUE(
      throws_error_with([] { autograd::queue_callback([] {}); }, {"queue_callback", "no backward() is running"}));
  EXPECT_TRUE(throws_error_with([&] { (void)autograd::add_post_accumulate_grad_hook(w * 2, [](const Tensor&) {}); },
                                {"add_post_accumulate_grad_hook", "leaf", "produced by an op"}));
}

TEST_P(AutogradTest, ScalarBackwardFillsLeafGradients) {
  Tensor a = leaf({2, 3}, {2}), b = leaf({4, 5}, {2});
  const Tensor loss = sum(a * b + a);
  EXPECT_TRUE(a.is_leaf());
  EXPECT_FALSE(loss.is_leaf());
  ASSERT_NE(loss.grad_fn(), nullptr);
  EXPECT_EQ(loss.grad_fn()->name(), "sum");
  EXPECT_TRUE(loss.requires_grad());
  loss.backward();
  EXPECT_TRUE(values_are(a.grad(), {5, 6}));
  EXPECT_TRUE(values_are(b.grad(), {2, 3}));
  EXPECT_EQ(a.grad().device(), device());
}

TEST_P(AutogradTest, GradientsAccumulateUntilCleared) {
  Tensor w = leaf({1.5}, {1});
  for (int i = 0; i < 3; ++i) sum(w * w).backward();
  EXPECT_TRUE(values_are(w.grad(), {9}));  // 3 × 2w
  w.set_grad(Tensor());
  EXPECT_FALSE(w.grad().defined());
  sum(w * 2).backward();
  EXPECT_TRUE(values_are(w.grad(), {2}));
}

TEST_P(AutogradTest, LeavesNeverShareAGradientTensor) {
  Tensor x = leaf({1}, {1}), y = leaf({1}, {1});
  for (int i = 0; i < 2; ++i) sum(x + y).backward();  // add hands one gradient tensor to both
  EXPECT_TRUE(values_are(x.grad(), {2}));
  EXPECT_TRUE(values_are(y.grad(), {2}));
  EXPECT_NE(x.grad().storage(), y.grad().storage());
  Tensor z = leaf({3}, {1});
  const Tensor seed = ones({1}, options(kFloat64));
  z.backward(seed);  // a leaf as the root: the caller's seed must not become the gradient
  EXPECT_NE(z.grad().storage(), seed.storage());
}

TEST_P(AutogradTest, GradientsFlowAcrossDevicesAndDtypes) {
  Tensor x = tensor({1, 2}, kFloat64).requires_grad_();  // a CPU leaf
  const Tensor y = x.to(device()) * tensor({3, 4}, options(kFloat64));
  sum(y.to(kFloat32) * 2).backward();
  EXPECT_EQ(x.grad().device(), Device::cpu());
  EXPECT_EQ(x.grad().dtype(), kFloat64);
  EXPECT_TRUE(values_are(x.grad(), {6, 8}));
}

TEST_P(AutogradTest, BackwardWithAnExplicitGradient) {
  Tensor x = leaf({1, 2, 3}, {3});
  const Tensor y = x * x;
  y.backward(tensor({1, 0.5, 0}, options(kFloat64)));
  EXPECT_TRUE(values_are(x.grad(), {2, 2, 0}));
}

TEST_P(AutogradTest, FanOutSumsGradients) {
  Tensor x = leaf({3}, {1});
  const Tensor y = x * x * x + exp(x) * x;  // x used five times
  y.sum().backward();
  const double v = 3;
  EXPECT_TRUE(values_are(x.grad(), {3 * v * v + std::exp(v) * (v + 1)}, 1e-9));
}

TEST_P(AutogradTest, BroadcastGradientsAreSummedToTheInputShape) {
  Tensor m = leaf({1, 2, 3, 4, 5, 6}, {2, 3}), row = leaf({1, 1, 1}, {3}), col = leaf({1, 1}, {2, 1});
  sum(m * row + col).backward();
  EXPECT_EQ(row.grad().shape(), (Shape{3}));
  EXPECT_TRUE(values_are(row.grad(), {5, 7, 9}));
  EXPECT_EQ(col.grad().shape(), (Shape{2, 1}));
  EXPECT_TRUE(values_are(col.grad(), {3, 3}));
}

TEST_P(AutogradTest, RetainGraphAllowsASecondBackward) {
  Tensor x = leaf({2}, {1});
  const Tensor y = sum(exp(x));
  y.backward({}, /*retain_graph=*/true);
  y.backward();
  EXPECT_TRUE(values_are(x.grad(), {2 * std::exp(2.0)}, 1e-9));
  EXPECT_TRUE(throws_error_with([&] { y.backward(); }, {"backward", "second time", "retain_graph=true"}));
}

TEST_P(AutogradTest, DetachAndNoGradStopRecording) {
  Tensor x = leaf({1, 2}, {2});
  const Tensor d = x.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.storage(), x.storage());
  EXPECT_FALSE((d * 2).requires_grad());
  {
    NoGradGuard guard;
    EXPECT_FALSE(GradMode::is_enabled());
    EXPECT_FALSE((x * 2).requires_grad());
    x.mul_(2);  // in-place on a leaf is fine without recording
  }
  EXPECT_TRUE(GradMode::is_enabled());
  EXPECT_TRUE((x * 2).requires_grad());
  bool other_thread_records = false;
  {
    NoGradGuard guard;  // thread-local: another thread still records
    std::thread([&] { other_thread_records = (x * 2).requires_grad(); }).join();
  }
  EXPECT_TRUE(other_thread_records);
}

TEST_P(AutogradTest, NonDifferentiableOutputs) {
  Tensor x = leaf({1, 5, 3}, {3});
  EXPECT_FALSE(gt(x, 2).requires_grad());
  EXPECT_FALSE(argmax(x).requires_grad());
  auto [values, indices] = max(x, 0);
  EXPECT_TRUE(values.requires_grad());
  EXPECT_FALSE(indices.requires_grad());
  EXPECT_FALSE(x.to(kInt64).requires_grad());
}

TEST_P(AutogradTest, InPlaceChangeOfASavedTensorIsCaught) {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = exp(x);  // saves its output
  Tensor z = sum(y * 3);
  {
    NoGradGuard guard;
    y.add_(1);
  }
  EXPECT_TRUE(throws_error_with([&] { z.backward(); }, {"exp", "modified by an in-place op", "version"}));
  Tensor w = leaf({1, 2}, {2});
  Tensor p = sum(w * w);  // mul saves w
  {
    NoGradGuard guard;
    w.sub_(0.1);  // what an optimizer step does: then backward of the OLD graph must fail
  }
  EXPECT_TRUE(throws_error_with([&] { p.backward(); }, {"mul", "modified by an in-place op"}));
}

TEST_P(AutogradTest, InPlaceOpsOnTensorsThatRequireGradAreRefused) {
  Tensor x = leaf({1, 2}, {2});
  EXPECT_TRUE(throws_error_with([&] { x.add_(1); }, {"add_", "requires grad", "NoGradGuard"}));
  Tensor y = x * 2;
  EXPECT_TRUE(throws_error_with([&] { y.mul_(y); }, {"mul_", "requires grad"}));
  Tensor plain = zeros({2}, options(kFloat64));
  EXPECT_TRUE(throws_error_with([&] { plain.copy_(x); }, {"copy_", "operand that requires grad"}));
}

TEST_P(AutogradTest, ErrorsNameTheProblem) {
  EXPECT_TRUE(throws_error_with([&] { zeros({2}, options()).backward(); }, {"backward", "does not require grad"}));
  Tensor x = leaf({1, 2}, {2});
  EXPECT_TRUE(throws_error_with([&] { (x * 2).backward(); }, {"backward", "non-scalar", "[2]"}));
  EXPECT_TRUE(throws_error_with([&] { (x * 2).backward(ones({3}, options(kFloat64))); }, {"backward", "[3]", "[2]"}));
  EXPECT_TRUE(throws_error_with([&] { (x * 2).requires_grad_(false); }, {"requires_grad_", "leaf", "mul"}));
  EXPECT_TRUE(throws_error_with([&] { zeros({2}, options(kInt64)).requires_grad_(); }, {"requires_grad_", "int64"}));
  EXPECT_TRUE(throws_error_with([&] { x.set_grad(zeros({3}, options(kFloat64))); }, {"set_grad", "[3]", "[2]"}));
}

TEST_P(AutogradTest, AnomalyModeNamesTheOpThatMadeANaN) {
  Tensor x = leaf({0, 1}, {2});
  sum(log(x)).backward();  // 1/0 = inf in the gradient, silently
  EXPECT_TRUE(std::isinf(x.grad().to_vector<double>()[0]));
  x.set_grad(Tensor());
  autograd::DetectAnomalyGuard anomaly;
  EXPECT_TRUE(throws_error_with([&] { sum(log(x)).backward(); }, {"anomaly", "log", "Inf"}));
  EXPECT_TRUE(throws_error_with([&] { sum(sqrt(x - 1)).backward(); }, {"anomaly", "sqrt", "NaN"}));
}

TEST_P(AutogradTest, A100000OpChainDoesNotOverflowTheStack) {
  Tensor x = leaf({1}, {1});
  Tensor y = x;
  for (int i = 0; i < 100000; ++i) y = y * 1.0;
  y.sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {1}));
  Tensor z = x;
  for (int i = 0; i < 100000; ++i) z = z + 0.0;
  z = Tensor();  // destroying an un-run 100k-node graph must not recurse either
  SUCCEED();
}

TEST_P(AutogradTest, MemoryStaysFlatOverLongTrainingLoops) {
  Tensor w = randn({16, 8}, options(kFloat64)).requires_grad_();
  Tensor b = zeros({8}, options(kFloat64)).requires_grad_();
  const Tensor x = randn({32, 16}, options(kFloat64)), target = randn({32, 8}, options(kFloat64));
  auto step = [&] {
    const Tensor pred = sigmoid(matmul(x, w) + b);
    const Tensor loss = mean((pred - target) * (pred - target));
    loss.backward();
    NoGradGuard no_grad;
    w.sub_(w.grad() * 0.1);
    b.sub_(b.grad() * 0.1);
    w.grad().zero_();
    b.grad().zero_();
  };
  for (int i = 0; i < 10; ++i) step();
  const std::int64_t after_10 = memory::live_bytes(device());
  for (int i = 0; i < 10000; ++i) step();
  EXPECT_EQ(memory::live_bytes(device()), after_10);
}

INSTANTIATE_TEST_SUITE_P(Devices, AutogradTest, ::testing::ValuesIn(test_devices()), device_param_name);

// ---- gradcheck itself ---------------------------------------------------------------------------

TEST(Gradcheck, FailsOnADeliberatelyWrongBackward) {
  // x² with a backward that forgets the factor 2.
  auto wrong_square = [](const std::vector<Tensor>& in) {
    const Tensor& x = in[0];
    Tensor y = x.detach() * x.detach();
    autograd::record("wrong_square", y, {&x}, [x_ = autograd::SavedTensor(x, "wrong_square")](const Tensor& g) {
      return autograd::Grads{g * x_.get()};
    });
    return y;
  };
  const Tensor x = tensor({0.5, -1.5, 2.0}, kFloat64).requires_grad_();
  const auto result = autograd::gradcheck(wrong_square, {x});
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.report.find("d output[2] / d input 0[2]"), std::string::npos) << result.report;
  EXPECT_NE(result.report.find("analytical 2 vs numerical 4"), std::string::npos) << result.report;
  // The same op with the right backward passes.
  auto right_square = [](const std::vector<Tensor>& in) { return in[0] * in[0]; };
  EXPECT_TRUE(autograd::gradcheck(right_square, {x}).ok);
}

TEST(Gradcheck, RejectsBadInputs) {
  EXPECT_TRUE(throws_error_with([] { autograd::gradcheck([](auto& in) { return in[0]; }, {zeros({2}, kFloat64)}); },
                                {"gradcheck", "float64 leaf with requires_grad"}));
  EXPECT_TRUE(
      throws_error_with([] { autograd::gradcheck([](auto& in) { return in[0]; }, {zeros({2}).requires_grad_()}); },
                        {"gradcheck", "float32"}));
}

}  // namespace
}  // namespace nudge::testing

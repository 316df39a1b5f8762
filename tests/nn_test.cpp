// nn: Module bookkeeping, Linear, init, activations and losses.
#include <cmath>

#include "test_util.h"

namespace nudge::testing {
namespace {

class NnTest : public DeviceTest {};

TEST(Module, NamedParametersUseDottedNames) {
  nn::Sequential model(nn::Linear(2, 4), nn::Sigmoid(), nn::Linear(4, 1, nn::LinearOptions{.bias = false}));
  std::vector<std::string> names;
  for (auto& [name, p] : model.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "2.weight"}));
  EXPECT_EQ(model.parameters().size(), 3u);
  EXPECT_EQ(model.parameters(/*recurse=*/false).size(), 0u);
  for (auto& p : model.parameters()) EXPECT_TRUE(p.requires_grad() && p.is_leaf());
  model.eval();
  EXPECT_FALSE(model.is_training());
  EXPECT_FALSE(model[0]->is_training());
  model.train();
  EXPECT_TRUE(model[2]->is_training());
}

TEST(Module, StateDictRoundTripAndErrors) {
  manual_seed(1);
  nn::Sequential a(nn::Linear(3, 2), nn::Tanh());
  manual_seed(2);
  nn::Sequential b(nn::Linear(3, 2), nn::Tanh());
  const Tensor x = randn({5, 3});
  EXPECT_FALSE(all_close(a(x), b(x)));
  b.load_state_dict(a.state_dict());
  EXPECT_TRUE(all_close(a(x), b(x), 0, 0));
  // state_dict returns copies: changing them does not touch the model.
  nn::StateDict state = a.state_dict();
  state[0].second.fill_(0);
  EXPECT_FALSE(all_close(a.named_parameters()[0].second, state[0].second));

  nn::StateDict missing = {state[0]};
  EXPECT_TRUE(throws_error_with([&] { b.load_state_dict(missing); }, {"load_state_dict", "missing", "0.bias"}));
  nn::StateDict extra = a.state_dict();
  extra.emplace_back("1.weight", zeros({1}));
  EXPECT_TRUE(throws_error_with([&] { b.load_state_dict(extra); }, {"load_state_dict", "unexpected", "1.weight"}));
  nn::StateDict wrong_shape = a.state_dict();
  wrong_shape[0].second = zeros({3, 2});
  EXPECT_TRUE(
      throws_error_with([&] { b.load_state_dict(wrong_shape); }, {"load_state_dict", "0.weight", "[3, 2]", "[2, 3]"}));
  b.load_state_dict(missing, /*strict=*/false);  // non-strict: loads what matches
}

TEST_P(NnTest, ToDeviceMovesParametersInPlace) {
  nn::Linear layer(3, 2);
  const Tensor held = layer.weight;  // an optimizer would hold this handle
  layer.to(device());
  EXPECT_EQ(held.device(), device());
  EXPECT_TRUE(held.requires_grad());
  const Tensor y = layer(ones({4, 3}, options()));
  EXPECT_EQ(y.device(), device());
  sum(y).backward();
  EXPECT_TRUE(values_are(layer.bias.grad(), {4, 4}));
  layer.zero_grad();
  EXPECT_FALSE(layer.bias.grad().defined());
}

TEST_P(NnTest, LinearComputesXWtPlusBWithPyTorchInit) {
  manual_seed(0);
  nn::Linear layer(16, 8);
  const double bound = 1 / std::sqrt(16.0);
  EXPECT_LE(max(abs(layer.weight)).item<float>(), bound);
  EXPECT_LE(max(abs(layer.bias)).item<float>(), bound);
  manual_seed(0);
  nn::Dense same(16, 8);
  EXPECT_TRUE(all_close(same.weight, layer.weight, 0, 0)) << "same seed, same weights";
  layer.to(device());
  const Tensor x = randn({5, 16}, options());
  EXPECT_TRUE(all_close(layer(x), matmul(x, layer.weight.t()) + layer.bias, 1e-6, 1e-6));
  nn::Linear with_act(16, 8, nn::Activation::Sigmoid);
  with_act.to(device());
  EXPECT_TRUE(all_close(with_act(x), sigmoid(matmul(x, with_act.weight.t()) + with_act.bias), 1e-6, 1e-6));
  EXPECT_TRUE(throws_error_with([&] { layer(randn({5, 3}, options())); }, {"Linear", "last dim 16", "[5, 3]"}));
}

TEST(Init, DistributionsHaveTheDocumentedScale) {
  Generator gen(3);
  Tensor w = empty({200, 300});
  nn::init::xavier_uniform_(w, 1.0, gen);
  EXPECT_LE(max(abs(w)).item<float>(), std::sqrt(6.0 / 500));
  nn::init::kaiming_normal_(w, 0, nn::init::FanMode::FanIn, gen);
  const double var = mean(w * w).item<float>();
  EXPECT_NEAR(var, 2.0 / 300, 0.05 * 2.0 / 300);
  nn::init::xavier_normal_(w, 1.0, gen);
  EXPECT_NEAR(mean(w * w).item<float>(), 2.0 / 500, 0.05 * 2.0 / 500);
  nn::init::constant_(w, 0.25);
  EXPECT_FLOAT_EQ(max(w).item<float>(), 0.25f);
  Tensor v = empty({3});
  EXPECT_TRUE(throws_error_with([&] { nn::init::xavier_uniform_(v); }, {"init", "2 dims"}));
}

TEST_P(NnTest, SoftmaxAndLogSoftmax) {
  const Tensor x = tensor({1, 2, 3, 1000, 1000, 1000}, {2, 3}, options(kFloat64));
  const Tensor s = softmax(x, 1);
  EXPECT_TRUE(values_are(sum(s, 1), {1, 1}, 1e-12));
  EXPECT_TRUE(values_are(s.select(0, 1), {1.0 / 3, 1.0 / 3, 1.0 / 3}, 1e-12));  // no overflow at 1000
  EXPECT_TRUE(all_close(exp(log_softmax(x, 1)), s, 1e-12, 1e-12));
  EXPECT_TRUE(all_close(nn::LogSoftmax(1)(x), log_softmax(x, 1), 0, 0));
  const Tensor in = randn({3, 4}, options(kFloat64)).requires_grad_();
  EXPECT_TRUE(autograd::gradcheck([](auto& v) { return log_softmax(v[0], 1); }, {in}).ok);
  EXPECT_TRUE(autograd::gradcheck([](auto& v) { return softmax(v[0], 0); }, {in}).ok);
}

TEST_P(NnTest, LossValuesMatchHandComputation) {
  const Tensor p = tensor({0.9, 0.2, 0.6}, options(kFloat64)), t = tensor({1, 0, 1}, options(kFloat64));
  EXPECT_NEAR(nn::MSELoss()(p, t).item<double>(), (0.01 + 0.04 + 0.16) / 3, 1e-12);
  EXPECT_NEAR(nn::mse_loss(p, t, nn::Reduction::Sum).item<double>(), 0.21, 1e-12);
  EXPECT_TRUE(values_are(nn::mse_loss(p, t, nn::Reduction::None), {0.01, 0.04, 0.16}, 1e-12));
  EXPECT_NEAR(nn::L1Loss()(p, t).item<double>(), 0.7 / 3, 1e-12);
  const double bce = -(std::log(0.9) + std::log(0.8) + std::log(0.6)) / 3;
  EXPECT_NEAR(nn::BCELoss()(p, t).item<double>(), bce, 1e-12);
  const Tensor logits = log(p / (1 - p));
  EXPECT_NEAR(nn::BCEWithLogitsLoss()(logits, t).item<double>(), bce, 1e-12);
  // Extreme logits stay finite and exact where BCE of a saturated sigmoid would not.
  const Tensor big = tensor({-1000, 1000}, options(kFloat64)), bt = tensor({1, 0}, options(kFloat64));
  EXPECT_NEAR(nn::BCEWithLogitsLoss()(big, bt).item<double>(), 1000, 1e-9);
  EXPECT_NEAR(nn::BCELoss()(sigmoid(big), bt).item<double>(), 100, 1e-9);  // log clamped at -100
  const Tensor scores = tensor({2, 1, 0, 0, 0, 1000}, {2, 3}, options(kFloat64));
  const Tensor labels = from_vector<std::int64_t>({0, 2}, {2}, options(kInt64));
  const double ce0 = -std::log(std::exp(2.0) / (std::exp(2.0) + std::exp(1.0) + 1));
  EXPECT_NEAR(nn::CrossEntropyLoss()(scores, labels).item<double>(), ce0 / 2, 1e-12);
}

TEST_P(NnTest, LossGradientsPassGradcheck) {
  const Tensor t = rand({4, 3}, options(kFloat64));
  const Tensor x = (rand({4, 3}, options(kFloat64)) * 0.8 + 0.1).requires_grad_();
  const Tensor labels = from_vector<std::int64_t>({0, 2, 1, 2}, {4}, options(kInt64));
  EXPECT_TRUE(autograd::gradcheck([&](auto& v) { return nn::mse_loss(v[0], t); }, {x}).ok);
  EXPECT_TRUE(autograd::gradcheck([&](auto& v) { return nn::l1_loss(v[0], t); }, {x}).ok);
  EXPECT_TRUE(autograd::gradcheck([&](auto& v) { return nn::binary_cross_entropy(v[0], t); }, {x}).ok);
  EXPECT_TRUE(autograd::gradcheck([&](auto& v) { return nn::binary_cross_entropy_with_logits(v[0], t); }, {x}).ok);
  EXPECT_TRUE(autograd::gradcheck([&](auto& v) { return nn::cross_entropy(v[0], labels); }, {x}).ok);
}

TEST(LossErrors, NameTheLossAndOperands) {
  EXPECT_TRUE(throws_error_with(
      [] {
        nn::mse_loss(zeros({4, 1}), zeros({4}));
      },
      {"mse_loss", "same shape", "[4, 1]", "[4]"}));
  EXPECT_TRUE(throws_error_with(
      [] {
        nn::cross_entropy(zeros({2, 3}), zeros({2}));
      },
      {"cross_entropy", "int64", "float32"}));
  EXPECT_TRUE(throws_error_with(
      [] {
        nn::cross_entropy(zeros({2, 3}), from_vector<std::int64_t>({0, 3}, {2}));
      },
      {"cross_entropy", "target 1 is class 3", "[0, 3)"}));
}

INSTANTIATE_TEST_SUITE_P(Devices, NnTest, ::testing::ValuesIn(test_devices()), device_param_name);

}  // namespace
}  // namespace nudge::testing

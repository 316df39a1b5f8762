// optim: update rules against values worked out from the published rules (see the derivation in
// each header), schedulers, clipping and early stopping.
#include <cmath>

#include "test_util.h"

namespace nudge::testing {
namespace {

class OptimTest : public DeviceTest {
 protected:
  /// Runs `steps` updates on loss = Σ c·p² from p = [1, −2], c = [1, 3]; returns p.
  template <class Make> Tensor run(Make make_optimizer, int steps) {
    Tensor p = tensor({1, -2}, options(kFloat64)).requires_grad_();
    const Tensor c = tensor({1, 3}, options(kFloat64));
    auto opt = make_optimizer(std::vector<Tensor>{p});
    for (int i = 0; i < steps; ++i) {
      opt.zero_grad();
      sum(c * p * p).backward();
      opt.step();
    }
    return p;
  }
};

TEST_P(OptimTest, PlainSgd) {
  // p ← p − 0.1·2cp: 0.8ⁿ and 0.4ⁿ by hand.
  const Tensor p = run([](auto ps) { return optim::SGD(ps, {.lr = 0.1}); }, 3);
  EXPECT_TRUE(values_are(p, {0.512, -0.128}, 1e-12));
}

TEST_P(OptimTest, SgdMomentumDampeningWeightDecay) {
  const Tensor p = run(
      [](auto ps) { return optim::SGD(ps, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01}); }, 3);
  EXPECT_TRUE(values_are(p, {0.09499854318999995, 1.6905520576199997}, 1e-12));
}

TEST_P(OptimTest, SgdNesterov) {
  const Tensor p = run(
      [](auto ps) { return optim::SGD(ps, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true}); }, 3);
  EXPECT_TRUE(values_are(p, {-0.11165109425900016, 0.6056591301179999}, 1e-12));
}

TEST_P(OptimTest, AdamAndAdamW) {
  const Tensor a = run([](auto ps) { return optim::Adam(ps, {.lr = 0.1, .weight_decay = 0.01}); }, 3);
  EXPECT_TRUE(values_are(a, {0.7015862729382771, -1.7006233915356082}, 1e-12));
  const Tensor w = run([](auto ps) { return optim::AdamW(ps, {.lr = 0.1, .weight_decay = 0.01}); }, 3);
  EXPECT_TRUE(values_are(w, {0.6989111831582322, -1.694944513874826}, 1e-12));
}

TEST_P(OptimTest, ZeroGradAndParameterGroups) {
  Tensor a = ones({2}, options()).requires_grad_(), b = ones({2}, options()).requires_grad_();
  optim::SGD opt({optim::ParamGroup{{a}, 0.5}, optim::ParamGroup{{b}, 0.1}}, {});
  sum(a + b).backward();
  opt.step();
  EXPECT_TRUE(values_are(a, {0.5, 0.5}));
  EXPECT_TRUE(values_are(b, {0.9, 0.9}));
  opt.zero_grad(/*set_to_none=*/false);
  EXPECT_TRUE(values_are(a.grad(), {0, 0}));
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
  opt.step();  // parameters without gradients are skipped
  EXPECT_TRUE(values_are(a, {0.5, 0.5}));
}

INSTANTIATE_TEST_SUITE_P(Devices, OptimTest, ::testing::ValuesIn(test_devices()), device_param_name);

TEST(Optimizer, Errors) {
  EXPECT_TRUE(throws_error_with([] { optim::SGD(std::vector<Tensor>{}, {}); }, {"optimizer", "empty parameter list"}));
  EXPECT_TRUE(throws_error_with([] { optim::SGD({zeros({2}).requires_grad_() * 2}, {}); }, {"optimizer", "leaf"}));
  Tensor p = zeros({2}).requires_grad_();
  EXPECT_TRUE(
      throws_error_with([&] { optim::SGD({p}, {.lr = 0.1, .nesterov = true}); }, {"SGD", "nesterov", "momentum"}));
  EXPECT_TRUE(throws_error_with([&] { optim::Adam({p}, {.beta1 = 1.0}); }, {"Adam", "betas"}));
  EXPECT_TRUE(throws_error_with([&] { optim::SGD({p}, {.lr = -1}); }, {"learning rate", "-1"}));
}

TEST(Schedulers, FollowTheirFormulas) {
  Tensor p = zeros({1}).requires_grad_();
  optim::SGD opt({p}, {.lr = 1.0});
  optim::StepLR step_lr(opt, 2, 0.5);
  std::vector<double> lrs;
  for (int i = 0; i < 5; ++i) {
    step_lr.step();
    lrs.push_back(opt.lr());
  }
  EXPECT_EQ(lrs, (std::vector<double>{1.0, 0.5, 0.5, 0.25, 0.25}));

  optim::SGD opt2({p}, {.lr = 2.0});
  optim::ExponentialLR exp_lr(opt2, 0.5);
  exp_lr.step();
  exp_lr.step();
  EXPECT_DOUBLE_EQ(opt2.lr(), 0.5);

  optim::SGD opt3({p}, {.lr = 1.0});
  optim::CosineAnnealingLR cos_lr(opt3, 4, 0.1);
  cos_lr.step();
  cos_lr.step();
  EXPECT_NEAR(opt3.lr(), 0.55, 1e-12);  // halfway: eta_min + (1 − eta_min)/2
  cos_lr.step();
  cos_lr.step();
  EXPECT_NEAR(opt3.lr(), 0.1, 1e-12);

  optim::SGD opt4({p}, {.lr = 1.0});
  optim::ReduceLROnPlateau plateau(opt4, {.factor = 0.5, .patience = 1});
  for (double loss : {1.0, 0.5, 0.5, 0.5}) plateau.step(loss);  // two epochs without improvement > patience
  EXPECT_DOUBLE_EQ(opt4.lr(), 0.5);
}

// The rates PyTorch 1.13 gives (its own numbers, printed by torch.optim.lr_scheduler): the value
// after construction, then after each step.
std::vector<double> rates(optim::Optimizer& opt, optim::LRScheduler& schedule, int steps) {
  std::vector<double> lrs{opt.lr()};
  for (int i = 0; i < steps; ++i) {
    schedule.step();
    lrs.push_back(opt.lr());
  }
  return lrs;
}

::testing::AssertionResult rates_match(const std::vector<double>& got, const std::vector<double>& pytorch) {
  if (got.size() != pytorch.size()) return ::testing::AssertionFailure() << "lengths differ";
  for (std::size_t i = 0; i < got.size(); ++i)
    if (std::fabs(got[i] - pytorch[i]) > 1e-15 + 1e-12 * std::fabs(pytorch[i]))
      return ::testing::AssertionFailure() << "epoch " << i << ": " << got[i] << " vs PyTorch " << pytorch[i];
  return ::testing::AssertionSuccess();
}

TEST(Schedulers, WarmupThenCosineMatchesPyTorchsSequentialLR) {
  Tensor p = zeros({1}).requires_grad_();
  optim::SGD opt({p}, {.lr = 0.1});
  auto warmup = std::make_shared<optim::LinearLR>(opt, 0.1, 1.0, 4);
  auto cosine = std::make_shared<optim::CosineAnnealingLR>(opt, 6);
  optim::SequentialLR schedule(opt, {warmup, cosine}, {4});
  EXPECT_TRUE(rates_match(
      rates(opt, schedule, 12),
      {0.010000000000000002, 0.03250000000000001, 0.055000000000000014, 0.07750000000000003, 0.1, 0.09330127018922195,
       0.07500000000000001, 0.05, 0.025000000000000012, 0.006698729810778065, 0.0, 0.006698729810778065, 0.025}));
  EXPECT_TRUE(throws_error_with([&] { optim::SequentialLR(opt, {warmup, cosine}, {}); }, {"2 schedulers need 1"}));
}

TEST(Schedulers, LambdaAndLinearMatchPyTorch) {
  Tensor p = zeros({1}).requires_grad_();
  optim::SGD opt({p}, {.lr = 0.5});
  optim::LambdaLR lambda(opt, [](std::int64_t epoch) { return 1.0 / (1.0 + static_cast<double>(epoch)); });
  EXPECT_TRUE(rates_match(rates(opt, lambda, 4), {0.5, 0.25, 0.16666666666666666, 0.125, 0.1}));
  optim::SGD opt2({p}, {.lr = 0.2});
  optim::LinearLR linear(opt2);  // PyTorch's defaults: 1/3 -> 1 over 5 epochs
  EXPECT_TRUE(rates_match(rates(opt2, linear, 7), {0.06666666666666667, 0.09333333333333334, 0.12000000000000001,
                                                   0.1466666666666667, 0.17333333333333337, 0.2, 0.2, 0.2}));
}

// PyTorch: LambdaLR(opt, [lambda e: 0.5 ** e, lambda e: 1 / (e + 1)]) over two groups (lr 0.4, 0.1).
TEST(Schedulers, LambdaPerGroupMatchesPyTorch) {
  Tensor a = zeros({1}).requires_grad_(), b = zeros({1}).requires_grad_();
  optim::SGD opt({optim::ParamGroup({a}, 0.4), optim::ParamGroup({b}, 0.1)}, {.lr = 1.0});
  optim::LambdaLR schedule(opt, {[](std::int64_t e) { return std::pow(0.5, static_cast<double>(e)); },
                                 [](std::int64_t e) { return 1.0 / (static_cast<double>(e) + 1); }});
  std::vector<double> first{opt.param_groups()[0].lr}, second{opt.param_groups()[1].lr};
  for (int i = 0; i < 3; ++i) {
    schedule.step();
    first.push_back(opt.param_groups()[0].lr);
    second.push_back(opt.param_groups()[1].lr);
  }
  EXPECT_TRUE(rates_match(first, {0.4, 0.2, 0.1, 0.05}));
  EXPECT_TRUE(rates_match(second, {0.1, 0.05, 0.03333333333333333, 0.025}));
  EXPECT_TRUE(throws_error_with(
      [&] {
        optim::LambdaLR three(opt, {[](std::int64_t) { return 1.0; }, [](std::int64_t) { return 1.0; },
                                    [](std::int64_t) { return 1.0; }});
      },
      {"LambdaLR", "expected 2 lambdas", "got 3"}));
}

TEST(Schedulers, OneCycleMatchesPyTorchForRateAndMomentum) {
  Tensor p = zeros({1}).requires_grad_();
  optim::SGD sgd({p}, {.lr = 0.5, .momentum = 0.9});
  optim::OneCycleLR cycle(sgd, 0.1, 10);
  std::vector<double> lrs{sgd.lr()}, momenta{*sgd.param_groups()[0].momentum};
  for (int i = 0; i < 9; ++i) {
    cycle.step();
    lrs.push_back(sgd.lr());
    momenta.push_back(*sgd.param_groups()[0].momentum);
  }
  EXPECT_TRUE(
      rates_match(lrs, {0.0040000000000000036, 0.052000000000000005, 0.1, 0.09504846320134738, 0.0811745653949763,
                        0.06112620219362893, 0.03887419780637107, 0.0188258346050237, 0.004951936798652629, 4e-07}));
  EXPECT_TRUE(
      rates_match(momenta, {0.95, 0.8999999999999999, 0.85, 0.854951556604879, 0.8688255099070633, 0.8888739533021842,
                            0.9111260466978157, 0.9311744900929366, 0.945048443395121, 0.95}));
  cycle.step();  // step 10 = total_steps: allowed, as in PyTorch; one more is an error
  EXPECT_TRUE(throws_error_with([&] { cycle.step(); }, {"OneCycleLR", "beyond total_steps = 10"}));

  Tensor q = zeros({1}).requires_grad_();
  optim::Adam adam({q}, {.lr = 0.5});
  optim::OneCycleLR adam_cycle(adam, 0.01, 4, {.pct_start = 0.5});
  std::vector<double> adam_lrs{adam.lr()}, beta1{*adam.param_groups()[0].beta1};
  for (int i = 0; i < 3; ++i) {
    adam_cycle.step();
    adam_lrs.push_back(adam.lr());
    beta1.push_back(*adam.param_groups()[0].beta1);
  }
  EXPECT_TRUE(rates_match(adam_lrs, {0.0003999999999999993, 0.01, 0.00500002, 4e-08}));
  EXPECT_TRUE(rates_match(beta1, {0.95, 0.85, 0.8999999999999999, 0.95}));
}

TEST(Schedulers, AResumedScheduleKeepsItsInitialRate) {
  // initial_lr is saved with the optimizer: a scheduler built after loading starts from it, not
  // from the decayed rate (PyTorch's param_groups[i]["initial_lr"]).
  Tensor p = zeros({1}).requires_grad_();
  optim::SGD opt({p}, {.lr = 1.0});
  optim::StepLR schedule(opt, 1, 0.5);
  schedule.step();
  schedule.step();
  Tensor q = zeros({1}).requires_grad_();
  optim::SGD resumed({q}, {.lr = 1.0});
  resumed.load_state_dict(opt.state_dict());
  ASSERT_DOUBLE_EQ(resumed.lr(), 0.25);
  optim::StepLR late(resumed, 1, 0.5);
  EXPECT_EQ(late.base_lrs(), (std::vector<double>{1.0}));
  late.load_state_dict(schedule.state_dict());
  late.step();
  EXPECT_DOUBLE_EQ(resumed.lr(), 0.125);
}

TEST(Optimizer, FrozenParametersAreSkippedAndAdamWDecaysByDefault) {
  Tensor frozen = ones({2}), trained = ones({2}).requires_grad_();  // a frozen layer: no requires_grad
  optim::SGD sgd({frozen, trained}, {.lr = 0.5});
  sum(frozen * trained).backward();
  sgd.step();
  EXPECT_TRUE(values_are(frozen, {1, 1}));
  EXPECT_TRUE(values_are(trained, {0.5, 0.5}));
  // AdamW's default weight decay is PyTorch's 0.01: with a zero gradient only the decay moves p.
  Tensor w = full({1}, 2.0, kFloat64).requires_grad_();
  optim::AdamW adamw({w}, {.lr = 0.1});
  w.set_grad(zeros({1}, kFloat64));
  adamw.step();
  EXPECT_DOUBLE_EQ(w.item<double>(), 2.0 * (1 - 0.1 * 0.01));
}

// A frozen first layer and per-group options (no weight decay on the bias; Nesterov momentum on
// the weight only), five steps: PyTorch 1.13's trajectory in float64 (its numbers, hard-coded).
std::vector<double> train_with_groups(const std::string& kind) {
  nn::Linear l1(2, 3, nn::Activation::Tanh), l2(3, 1);
  l1.to(kFloat64);  // before the values: float64 weights of exactly PyTorch's decimal values
  l2.to(kFloat64);
  {
    NoGradGuard no_grad;
    l1.weight.copy_(tensor({0.1, -0.2, 0.3, 0.4, -0.5, 0.6}, {3, 2}, kFloat64));
    l1.bias.copy_(tensor({0.01, -0.02, 0.03}, kFloat64));
    l2.weight.copy_(tensor({0.7, -0.8, 0.9}, {1, 3}, kFloat64));
    l2.bias.copy_(tensor({0.05}, kFloat64));
  }
  l1.weight.requires_grad_(false);
  l1.bias.requires_grad_(false);
  const Tensor x = tensor({1, 2, -1, 0.5, 0.3, -0.7, 2, -1}, {4, 2}, kFloat64);
  const Tensor y = tensor({1, 0, -1, 0.5}, {4, 1}, kFloat64);
  optim::ParamGroup weights({l2.weight}, kind == "adamw" ? 0.05 : 0.1), biases({l2.bias}, weights.lr);
  std::unique_ptr<optim::Optimizer> opt;
  if (kind == "adamw") {
    weights.weight_decay = 0.1;
    biases.weight_decay = 0;
    opt = std::make_unique<optim::AdamW>(std::vector<optim::ParamGroup>{weights, biases},
                                         optim::AdamWOptions{.lr = 0.05});
  } else {
    weights.momentum = 0.9;
    weights.nesterov = true;
    weights.weight_decay = 0.01;
    opt = std::make_unique<optim::SGD>(std::vector<optim::ParamGroup>{weights, biases}, optim::SGDOptions{.lr = 0.1});
  }
  // Frozen parameters are accepted in the optimizer too, and left alone.
  for (int step = 0; step < 5; ++step) {
    opt->zero_grad();
    mse_loss(l2(l1(x)), y).backward();
    opt->step();
  }
  std::vector<double> out = l2.weight.to_vector<double>();
  out.push_back(l2.bias.item<double>());
  EXPECT_TRUE(values_are(l1.weight, {0.1, -0.2, 0.3, 0.4, -0.5, 0.6}, 0));  // frozen: unchanged
  return out;
}

TEST(Optimizer, PerGroupOptionsAndFrozenLayersFollowPyTorchsTrajectory) {
  const std::vector<double> adamw = train_with_groups("adamw");
  const std::vector<double> expected_adamw{0.7361268377359219, -0.5335754652422554, 0.696507911483262,
                                           0.2692373104589225};
  const std::vector<double> sgd = train_with_groups("sgd");
  const std::vector<double> expected_sgd{0.7343323330188392, 0.2395222556713877, 0.6765753850485667,
                                         0.14173315732649722};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(adamw[i], expected_adamw[i], 1e-12) << i;
    EXPECT_NEAR(sgd[i], expected_sgd[i], 1e-12) << i;
  }
  Tensor p = zeros({1}).requires_grad_();
  optim::ParamGroup bad({p}, 0.1);
  bad.beta1 = 1.5;
  EXPECT_TRUE(throws_error_with([&] { optim::Adam({bad}, {}); }, {"Adam: betas", "1.5", "(group 0)"}));
}

TEST(ClipAndEarlyStopping, Work) {
  Tensor a = zeros({2}).requires_grad_(), b = zeros({1}).requires_grad_();
  a.set_grad(tensor({3, 0}));
  b.set_grad(tensor({4}));
  EXPECT_NEAR(optim::clip_grad_norm_({a, b}, 1.0), 5.0, 1e-6);
  EXPECT_TRUE(values_are(a.grad(), {0.6, 0}, 1e-5));
  EXPECT_TRUE(values_are(b.grad(), {0.8}, 1e-5));
  EXPECT_NEAR(optim::clip_grad_norm_({a, b}, 10.0), 1.0, 1e-5);  // under the limit: unchanged
  EXPECT_TRUE(values_are(b.grad(), {0.8}, 1e-5));

  optim::EarlyStopping stop(2, 0.01);
  EXPECT_FALSE(stop.step(1.0));
  EXPECT_FALSE(stop.step(0.5));
  EXPECT_FALSE(stop.step(0.495));  // improvement below min_delta counts as none
  EXPECT_TRUE(stop.step(0.6));
  EXPECT_DOUBLE_EQ(stop.best(), 0.5);
}

}  // namespace
}  // namespace nudge::testing

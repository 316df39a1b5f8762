// The parts of a resumable training state (issue "Nothing bad gets in", items 4 and 5):
// scheduler and DataLoader state dicts, the one-file checkpoint's checks, option checks on load,
// and the divergence guards.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "temp_dir.h"
#include "test_util.h"

namespace nudge::testing {
namespace {

Tensor parameter(double value) { return full({2}, value).requires_grad_(); }

TEST(SchedulerState, RestoredSchedulersContinueAtTheSameRate) {
  Tensor p = parameter(1);
  optim::SGD sgd({p}, {.lr = 0.5});
  optim::StepLR step_lr(sgd, 2, 0.1);
  for (int i = 0; i < 3; ++i) step_lr.step();
  const NamedTensors saved = step_lr.state_dict();

  // A fresh optimizer and scheduler, then the saved state (and the optimizer's): the next rates agree.
  Tensor q = parameter(1);
  optim::SGD sgd2({q}, {.lr = 0.5});
  optim::StepLR resumed(sgd2, 2, 0.1);
  sgd2.load_state_dict(sgd.state_dict());
  resumed.load_state_dict(saved);
  EXPECT_EQ(resumed.epoch(), 3);
  step_lr.step();
  resumed.step();
  EXPECT_EQ(sgd2.lr(), sgd.lr());
  EXPECT_DOUBLE_EQ(sgd.lr(), 0.5 * 0.01);

  // Built AFTER the optimizer was restored, a scheduler starts from the saved initial rate (not
  // the decayed one), and its state restores the epoch and that epoch's rate.
  Tensor r = parameter(1);
  optim::SGD sgd3({r}, {.lr = 0.5});
  sgd3.load_state_dict(sgd.state_dict());
  optim::StepLR late(sgd3, 2, 0.1);
  EXPECT_DOUBLE_EQ(late.base_lrs()[0], 0.5);
  late.load_state_dict(step_lr.state_dict());
  EXPECT_DOUBLE_EQ(sgd3.lr(), sgd.lr());
}

TEST(SchedulerState, BadStatesAreRefusedWithoutChanges) {
  Tensor p = parameter(1);
  optim::SGD sgd({p}, {.lr = 0.5});
  optim::CosineAnnealingLR cosine(sgd, 10);
  optim::StepLR step_lr(sgd, 2);
  EXPECT_TRUE(throws_error_with([&] { cosine.load_state_dict(step_lr.state_dict()); },
                                {"CosineAnnealingLR::load_state_dict", "saved by StepLR"}));
  NamedTensors negative = cosine.state_dict();
  for (auto& [key, t] : negative)
    if (key == "last_epoch") t = state_scalar(std::int64_t{-3});
  EXPECT_TRUE(throws_error_with([&] { cosine.load_state_dict(negative); }, {"last_epoch must be >= 0, got -3"}));
  NamedTensors nan_base = cosine.state_dict();
  for (auto& [key, t] : nan_base)
    if (key == "base_lrs.0") t = state_scalar(std::nan(""));
  EXPECT_TRUE(throws_error_with([&] { cosine.load_state_dict(nan_base); }, {"base_lrs.0 must be finite"}));
  EXPECT_EQ(cosine.epoch(), 0);

  optim::ReduceLROnPlateau plateau(sgd, {.patience = 1});
  plateau.step(1.0);
  plateau.step(2.0);
  optim::ReduceLROnPlateau copy(sgd, {.patience = 1});
  copy.load_state_dict(plateau.state_dict());
  EXPECT_EQ(copy.state_dict()[2].second.item<std::int64_t>(), 1);  // bad_epochs
}

TEST(OptimizerChecks, LearningRatesMustBeFiniteEverywhere) {
  Tensor p = parameter(1);
  EXPECT_TRUE(throws_error_with([&] { optim::SGD({p}, {.lr = INFINITY}); }, {"learning rate must be finite"}));
  EXPECT_TRUE(throws_error_with([&] { optim::Adam({p}, {.lr = std::nan("")}); }, {"learning rate must be finite"}));
  EXPECT_TRUE(throws_error_with([&] { optim::SGD({p}, {.lr = 0.1, .momentum = INFINITY}); }, {"SGD: momentum"}));
  optim::SGD sgd({p}, {.lr = 0.1, .momentum = 0.9});
  EXPECT_TRUE(throws_error_with([&] { sgd.set_lr(std::nan("")); }, {"set_lr", "finite"}));

  // On load too: a checkpoint cannot smuggle in what the constructor refuses.
  p.set_grad(ones({2}));
  sgd.step();
  const auto replace = [&](const std::string& key, Tensor value) {
    auto state = sgd.state_dict();
    for (auto& [k, t] : state)
      if (k == key) t = value;
    return state;
  };
  EXPECT_TRUE(throws_error_with([&] { sgd.load_state_dict(replace("param_groups.0.lr", state_scalar(std::nan("")))); },
                                {"SGD::load_state_dict", "finite"}));
  EXPECT_TRUE(
      throws_as<NonFiniteError>([&] { sgd.load_state_dict(replace("state.0.momentum_buffer", full({2}, NAN))); }));
  Tensor a = parameter(1);
  optim::Adam adam({a}, {});
  a.set_grad(ones({2}));
  adam.step();
  auto state = adam.state_dict();
  for (auto& [k, t] : state)
    if (k == "state.0.step") t = state_scalar(std::int64_t{-5});
  EXPECT_TRUE(throws_error_with([&] { adam.load_state_dict(state); }, {"\"state.0.step\" must be >= 0, got -5"}));
  EXPECT_DOUBLE_EQ(sgd.lr(), 0.1);  // unchanged by the refused loads
}

TEST(DataLoaderState, ResumesMidEpochInTheSameOrder) {
  const Tensor x = arange(10, kFloat32).reshape({10, 1}), y = arange(10, kInt64);
  data::DataLoaderOptions options{.batch_size = 3, .shuffle = true, .seed = 11};
  data::DataLoader loader(data::TensorDataset(x, y), options);
  for (const auto& batch : loader) (void)batch;  // epoch 1
  std::vector<std::vector<std::int64_t>> rest;
  NamedTensors saved;
  int seen = 0;
  for (const auto& batch : loader) {  // epoch 2: save after the second batch
    if (++seen == 2) saved = loader.state_dict();
    if (seen > 2) rest.push_back(batch.target.to_vector<std::int64_t>());
  }
  ASSERT_EQ(rest.size(), 2u);
  data::DataLoader resumed(data::TensorDataset(x, y), options);
  resumed.load_state_dict(saved);
  std::vector<std::vector<std::int64_t>> got;
  for (const auto& batch : resumed) got.push_back(batch.target.to_vector<std::int64_t>());
  EXPECT_EQ(got, rest);
  EXPECT_EQ(resumed.epoch(), 2);
  // The next epoch is the original's third.
  std::vector<std::int64_t> third, third_resumed;
  for (const auto& batch : loader)
    for (auto v : batch.target.to_vector<std::int64_t>()) third.push_back(v);
  for (const auto& batch : resumed)
    for (auto v : batch.target.to_vector<std::int64_t>()) third_resumed.push_back(v);
  EXPECT_EQ(third_resumed, third);

  data::DataLoader other(data::TensorDataset(x.narrow(0, 0, 9), y.narrow(0, 0, 9)), options);
  EXPECT_TRUE(throws_error_with([&] { other.load_state_dict(saved); }, {"dataset_size 10, this one has 9"}));
}

class CheckpointFile : public ::testing::Test {
 protected:
  CheckpointFile() : model(), sgd(nullptr) {
    manual_seed(3);
    model.push_back(nn::Linear(2, 2));
    sgd = std::make_unique<optim::SGD>(model.parameters(), optim::SGDOptions{.lr = 0.1, .momentum = 0.9});
  }
  nn::Sequential model;
  std::unique_ptr<optim::SGD> sgd;
  TempDir dir;
};

TEST_F(CheckpointFile, PartsGivenMustMatchPartsSaved) {
  optim::StepLR schedule(*sgd, 1);
  TrainingState with_schedule{&model, sgd.get(), &schedule};
  save_checkpoint(dir / "ckpt", with_schedule);
  TrainingState without{&model, sgd.get()};
  EXPECT_TRUE(throws_error_with([&] { load_checkpoint(dir / "ckpt", without); },
                                {"holds scheduler state but no scheduler was given", "build it before loading"}));
  save_checkpoint(dir / "plain", without);
  EXPECT_TRUE(throws_error_with([&] { load_checkpoint(dir / "plain", with_schedule); },
                                {"has no scheduler state, but a scheduler was given"}));
  save(model, dir / "model-only");
  EXPECT_TRUE(throws_error_with([&] { load_checkpoint(dir / "model-only", without); },
                                {"is not a training checkpoint", "nudge::load(model, path)"}));
}

TEST_F(CheckpointFile, ALoadThatFailsChangesNothing) {
  TrainingState state{&model, sgd.get()};
  state.epoch = 4;
  save_checkpoint(dir / "ckpt", state);
  // The same model with an Adam optimizer: the model part fits, the optimizer part does not.
  const std::vector<float> before = model.parameters()[0].to_vector<float>();
  {
    NoGradGuard no_grad;
    model.parameters()[0].fill_(7);
  }
  optim::Adam adam(model.parameters(), {});
  TrainingState wrong{&model, &adam};
  EXPECT_TRUE(throws_error_with([&] { load_checkpoint(dir / "ckpt", wrong); }, {"does not fit the optimizer"}));
  EXPECT_TRUE(values_are(model.parameters()[0], {7, 7, 7, 7}));  // the model part was rolled back
  EXPECT_EQ(wrong.epoch, 0);
  TrainingState right{&model, sgd.get()};
  EXPECT_NE(load_checkpoint(dir / "ckpt", right).find("epoch 4"), std::string::npos);
  EXPECT_EQ(model.parameters()[0].to_vector<float>(), before);
}

TEST_F(CheckpointFile, ADivergedModelNeverReplacesAGoodCheckpoint) {
  TrainingState state{&model, sgd.get()};
  save_checkpoint(dir / "ckpt", state);
  const std::string good = file_contents(dir / "ckpt");
  {
    NoGradGuard no_grad;
    model.parameters()[1].fill_(NAN);
  }
  EXPECT_TRUE(throws_as<NonFiniteError>([&] { save_checkpoint(dir / "ckpt", state); }));
  EXPECT_EQ(file_contents(dir / "ckpt"), good);
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    EXPECT_EQ(entry.path().filename(), "ckpt");  // no temporary file left either
}

TEST(GeneratorState, ARestoredGeneratorDrawsWhatTheOriginalWouldHave) {
  Generator g(42);
  (void)randn({5}, g);  // odd count: a Box-Muller spare is kept, and must travel with the state
  const Tensor state = g.get_state();
  EXPECT_EQ(state.dtype(), kInt64);
  const std::vector<double> next = randn({7}, g, kFloat64).to_vector<double>();
  Generator other(1);
  other.set_state(state);
  EXPECT_EQ(randn({7}, other, kFloat64).to_vector<double>(), next);
}

TEST(GeneratorState, ForeignStatesAreRefusedAndChangeNothing) {
  Generator g(5);
  const Tensor good = g.get_state();
  const std::vector<double> next = rand({4}, g, kFloat64).to_vector<double>();
  Generator h(5);
  EXPECT_TRUE(throws_as<FormatError>([&] { h.set_state(zeros({3}, kInt64)); }, {"expected an int64 tensor of 315"}));
  EXPECT_TRUE(throws_as<FormatError>([&] { h.set_state(good.to(kFloat64)); }, {"int64 tensor"}));
  Tensor far = good.clone();
  far.narrow(0, 312, 1).fill_(313);  // the position within the engine's words, past their end
  EXPECT_TRUE(throws_as<FormatError>([&] { h.set_state(far); }, {"position 313"}));
  Tensor flag = good.clone();
  flag.narrow(0, 313, 1).fill_(2);
  EXPECT_TRUE(throws_as<FormatError>([&] { h.set_state(flag); }, {"kept-normal flag 2"}));
  EXPECT_EQ(rand({4}, h, kFloat64).to_vector<double>(), next);  // h is as it was
}

TEST_F(CheckpointFile, GeneratorsTravelInTheCheckpoint) {
  Generator masks(9);
  TrainingState state{&model, sgd.get()};
  state.generators["masks"] = &masks;
  manual_seed(21);
  save_checkpoint(dir / "ckpt", state);
  const std::vector<double> default_next = rand({3}, kFloat64).to_vector<double>();
  const std::vector<double> masks_next = rand({3}, masks, kFloat64).to_vector<double>();
  (void)rand({10});
  EXPECT_NE(load_checkpoint(dir / "ckpt", state).find("the random generators"), std::string::npos);
  EXPECT_EQ(rand({3}, kFloat64).to_vector<double>(), default_next);
  EXPECT_EQ(rand({3}, masks, kFloat64).to_vector<double>(), masks_next);
  // The generators named must be the ones saved, as with every other part.
  TrainingState fewer{&model, sgd.get()};
  EXPECT_TRUE(throws_error_with([&] { load_checkpoint(dir / "ckpt", fewer); },
                                {"does not fit the rng", "holds 2 generator states, the run has 1"}));
  Generator other;
  TrainingState renamed{&model, sgd.get()};
  renamed.generators["other"] = &other;
  EXPECT_TRUE(throws_error_with([&] { load_checkpoint(dir / "ckpt", renamed); },
                                {"holds generator \"masks\", which the run does not have"}));
}

TEST(DivergenceCheck, NamesTheStepsWhereTheLossStoppedBeingFinite) {
  monitor::DivergenceCheck every_step;
  every_step.check(full({}, 1.5));
  EXPECT_TRUE(throws_as<NonFiniteError>([&] { every_step.check(full({}, INFINITY)); }, {"at step 2"}));
  monitor::DivergenceCheck batched(5);
  for (int step = 1; step <= 5; ++step) batched.check(full({}, 1.0));
  for (int step = 6; step <= 9; ++step) batched.check(full({}, step == 7 ? NAN : 1.0));  // no sync yet
  EXPECT_TRUE(throws_as<NonFiniteError>([&] { batched.check(full({}, 1.0)); }, {"between steps 6 and 10"}));
  monitor::DivergenceCheck tail(100);
  tail.check(full({}, NAN));
  EXPECT_TRUE(throws_as<NonFiniteError>([&] { tail.finish(); }, {"at step 1"}));
}

}  // namespace
}  // namespace nudge::testing

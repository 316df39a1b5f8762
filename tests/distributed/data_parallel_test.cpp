// DistributedDataParallel at any world size N: N ranks each on batch B for K steps end with the
// parameters of one process trained on the N·B batch (each rank also trains that reference itself,
// so the comparison needs no communication); the gradient averaging overlaps backward; the model
// starts from rank 0's weights.
#include "distributed_test_util.h"

namespace nudge::testing {
namespace {

using distributed::DataParallelOptions;
using distributed::DistributedDataParallel;

constexpr std::int64_t kBatch = 6;  // per rank
constexpr int kSteps = 4;

nn::Sequential make_model(DType dtype, std::uint64_t seed) {
  manual_seed(seed);
  nn::Sequential model(nn::Linear(5, 16, nn::Activation::Tanh), nn::Linear(16, 8, nn::Activation::Tanh),
                       nn::Linear(8, 1));
  model.to(dtype);
  return model;
}

/// Step k's global batch of N·B rows (the same on every rank).
data::Batch global_batch(int step, DType dtype) {
  Generator gen(1000 + static_cast<std::uint64_t>(step));
  const std::int64_t rows = kBatch * world();
  return {randn({rows, 5}, gen, TensorOptions(dtype)), randn({rows, 1}, gen, TensorOptions(dtype))};
}

enum class Optimizer { SgdMomentum, Adam };

std::unique_ptr<optim::Optimizer> make_optimizer(Optimizer kind, nn::Module& model) {
  if (kind == Optimizer::SgdMomentum)
    return std::make_unique<optim::SGD>(model.parameters(), optim::SGDOptions{.lr = 0.1, .momentum = 0.9});
  return std::make_unique<optim::Adam>(model.parameters(), optim::AdamOptions{.lr = 0.01});
}

/// Trains `model` for kSteps; `micro` micro-batches per step (accumulated under no_sync when a
/// DDP is given). `shard`: this rank's rows of each global batch, or all of them.
void train(nn::Module& model, DistributedDataParallel* ddp, optim::Optimizer& opt, DType dtype, bool shard, int micro) {
  for (int step = 0; step < kSteps; ++step) {
    data::Batch batch = global_batch(step, dtype);
    if (shard)
      batch = {batch.input.narrow(0, rank() * kBatch, kBatch), batch.target.narrow(0, rank() * kBatch, kBatch)};
    opt.zero_grad();
    const std::int64_t rows = batch.input.size(0) / micro;
    for (int m = 0; m < micro; ++m) {
      const Tensor x = batch.input.narrow(0, m * rows, rows), y = batch.target.narrow(0, m * rows, rows);
      const auto backward = [&] { (mse_loss(model(x), y) * (1.0 / micro)).backward(); };
      if (ddp != nullptr && m + 1 < micro) {
        auto no_sync = ddp->no_sync();
        backward();
      } else {
        backward();
      }
    }
    opt.step();
  }
}

struct Case {
  Optimizer optimizer;
  DType dtype;
  int micro;
  std::int64_t bucket_cap_bytes;
};

class DataParallelMatchesOneProcess : public ::testing::TestWithParam<Case> {};

TEST_P(DataParallelMatchesOneProcess, AfterSeveralSteps) {
  const Case c = GetParam();
  nn::Sequential reference = make_model(c.dtype, 7);
  train(reference, nullptr, *make_optimizer(c.optimizer, reference), c.dtype, /*shard=*/false, c.micro);

  // Each rank starts from other weights: the DDP's broadcast must make them rank 0's.
  nn::Sequential model = make_model(c.dtype, 7 + static_cast<std::uint64_t>(rank()) * 100);
  DistributedDataParallel ddp(model, group(), {.bucket_cap_bytes = c.bucket_cap_bytes});
  const auto opt = make_optimizer(c.optimizer, model);
  train(model, &ddp, *opt, c.dtype, /*shard=*/true, c.micro);

  // float32: the averaged gradient sums in another order than the one-process mean.
  const double tol = c.dtype == kFloat64 ? 1e-10 : 2e-5;
  const auto mine = model.named_parameters(), expected = reference.named_parameters();
  for (std::size_t i = 0; i < mine.size(); ++i)
    EXPECT_TRUE(all_close(mine[i].second, expected[i].second, tol, tol)) << mine[i].first << " on rank " << rank();
}

INSTANTIATE_TEST_SUITE_P(
    Distributed, DataParallelMatchesOneProcess,
    ::testing::Values(Case{Optimizer::SgdMomentum, kFloat64, 1, 25 << 20}, Case{Optimizer::Adam, kFloat64, 1, 25 << 20},
                      Case{Optimizer::SgdMomentum, kFloat64, 1, 200},  // uneven buckets of one or two parameters
                      Case{Optimizer::Adam, kFloat32, 1, 300}, Case{Optimizer::SgdMomentum, kFloat64, 2, 200},
                      Case{Optimizer::Adam, kFloat64, 3, 25 << 20}),
    [](const ::testing::TestParamInfo<Case>& info) {
      const Case& c = info.param;
      return std::string(c.optimizer == Optimizer::Adam ? "Adam" : "SgdMomentum") + "_" +
             std::string(dtype_name(c.dtype)) + "_micro" + std::to_string(c.micro) + "_cap" +
             std::to_string(c.bucket_cap_bytes);
    });

// On the GPU (NCCL, on nudge's stream): the same parameters as one process on the CPU.
TEST(DataParallelCuda, MatchesOneProcessOnTheCpu) {
  if (!cuda::is_available() && cuda_required()) FAIL() << "CUDA required: " << cuda::unavailable_reason();
  if (!cuda::is_available() || cuda::device_count() < world())
    GTEST_SKIP() << "needs a CUDA device for every rank (NCCL): " << cuda::unavailable_reason();
  nn::Sequential reference = make_model(kFloat64, 7);
  train(reference, nullptr, *make_optimizer(Optimizer::Adam, reference), kFloat64, /*shard=*/false, 1);
  nn::Sequential model = make_model(kFloat64, 7 + static_cast<std::uint64_t>(rank()));
  model.to(environment->device());
  DistributedDataParallel ddp(model, group(), {.bucket_cap_bytes = 200});
  const auto opt = make_optimizer(Optimizer::Adam, model);
  for (int step = 0; step < kSteps; ++step) {
    const data::Batch batch = global_batch(step, kFloat64);
    const Tensor x = batch.input.narrow(0, rank() * kBatch, kBatch).to(environment->device());
    const Tensor y = batch.target.narrow(0, rank() * kBatch, kBatch).to(environment->device());
    opt->zero_grad();
    mse_loss(ddp(x), y).backward();
    opt->step();
  }
  const auto mine = model.named_parameters(), expected = reference.named_parameters();
  for (std::size_t i = 0; i < mine.size(); ++i)
    EXPECT_TRUE(all_close(mine[i].second.cpu(), expected[i].second, 1e-9, 1e-9)) << mine[i].first;
}

TEST(DataParallel, BucketsAreLaunchedWhileBackwardIsStillRunning) {
  nn::Sequential model = make_model(kFloat64, 3);
  // Recorded when backward reaches the FIRST layer's weight (among the last gradients computed),
  // before the DDP sees it (this hook is older, so it runs first).
  std::size_t launched_when_first_layer_done = 0;
  DistributedDataParallel* watched = nullptr;
  const Tensor first_weight = model.parameters().front();
  const autograd::HookHandle probe = autograd::add_post_accumulate_grad_hook(
      first_weight, [&](const Tensor&) { launched_when_first_layer_done = watched->buckets_launched(); });
  // Small buckets: the last layer's gradients fill the first bucket long before the first layer's.
  DistributedDataParallel ddp(model, group(), {.bucket_cap_bytes = 200});
  watched = &ddp;
  ASSERT_GE(ddp.num_buckets(), 3U);
  const data::Batch batch = global_batch(0, kFloat64);
  mse_loss(ddp(batch.input), batch.target).backward();
  EXPECT_GE(launched_when_first_layer_done, 1U) << "no all-reduce was issued before backward finished";
  EXPECT_LT(launched_when_first_layer_done, ddp.num_buckets());
  EXPECT_EQ(ddp.buckets_launched(), ddp.num_buckets());
  // The layout: last parameters first, each bucket within the cap unless one parameter exceeds it.
  const auto layout = ddp.bucket_layout();
  EXPECT_EQ(layout.front().front(), model.parameters().size() - 1);
}

// A backward that fails on every rank alike (here a hook throws, after some buckets were sent) leaves
// the DDP ready for the next one: training on from there ends as if the failed step never happened.
TEST(DataParallel, ABackwardThatThrowsLeavesTheNextOneCorrect) {
  nn::Sequential reference = make_model(kFloat64, 7);
  train(reference, nullptr, *make_optimizer(Optimizer::SgdMomentum, reference), kFloat64, /*shard=*/false, 1);
  nn::Sequential model = make_model(kFloat64, 7 + static_cast<std::uint64_t>(rank()) * 100);
  DistributedDataParallel ddp(model, group(), {.bucket_cap_bytes = 200});
  bool fail = true;
  const autograd::HookHandle thrower =
      autograd::add_post_accumulate_grad_hook(model.parameters().front(), [&](const Tensor&) {
        if (fail) throw Error("a failing hook");
      });
  const data::Batch batch = global_batch(0, kFloat64);
  EXPECT_THROW(mse_loss(ddp(batch.input), batch.target).backward(), Error);
  EXPECT_GE(ddp.buckets_launched(), 1U) << "the failure should come after a bucket was sent";
  fail = false;
  const auto opt = make_optimizer(Optimizer::SgdMomentum, model);
  train(model, &ddp, *opt, kFloat64, /*shard=*/true, 1);
  const auto mine = model.named_parameters(), expected = reference.named_parameters();
  for (std::size_t i = 0; i < mine.size(); ++i)
    EXPECT_TRUE(all_close(mine[i].second, expected[i].second, 1e-10, 1e-10)) << mine[i].first << " on rank " << rank();
}

TEST(DataParallel, AModelThatDiffersAcrossRanksIsRefused) {
  if (world() == 1) GTEST_SKIP() << "needs two ranks";
  manual_seed(1);
  nn::Sequential model(nn::Linear(4, rank() == 0 ? 3 : 5));
  EXPECT_TRUE(throws_error_with([&] { DistributedDataParallel ddp(model, group()); },
                                {"DistributedDataParallel: rank", "every rank must build the same model"}));
}

TEST(DataParallel, FrozenParametersAreLeftAlone) {
  nn::Sequential model = make_model(kFloat64, 5 + static_cast<std::uint64_t>(rank()));
  Tensor frozen = model.parameters().front();
  frozen.requires_grad_(false);
  const std::vector<double> before = frozen.to_vector<double>();
  DistributedDataParallel ddp(model, group());
  EXPECT_EQ(frozen.to_vector<double>(), before);  // not broadcast: it is not trained
  const data::Batch batch = global_batch(0, kFloat64);
  mse_loss(ddp(batch.input), batch.target).backward();
  EXPECT_FALSE(frozen.grad().defined());
}

}  // namespace
}  // namespace nudge::testing

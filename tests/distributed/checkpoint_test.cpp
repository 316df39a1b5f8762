// What a training loop needs around DistributedDataParallel at any world size: checkpoints that
// rank 0 writes and every rank restores (its own data shard included), failures that stop every
// rank rather than one, and numbers summed over the ranks before rank 0 prints them.
#include <filesystem>

#include "distributed/backend.h"
#include "distributed/cuda_communicator.h"
#include "distributed/single_process.h"
#include "distributed_test_util.h"

namespace nudge::testing {
namespace {

/// A small training run whose loader deals this rank's shard.
struct Run {
  explicit Run(std::uint64_t seed)
      : model((manual_seed(seed), nn::Sequential(nn::Linear(3, 4, nn::Activation::Tanh), nn::Linear(4, 1)))),
        sgd(model.parameters(), {.lr = 0.1, .momentum = 0.9}),
        loader(data_set(), {.batch_size = 2, .shuffle = true, .seed = 9, .num_replicas = world(), .rank = rank()}),
        state{.model = &model, .optimizer = &sgd, .loader = &loader} {}
  static data::TensorDataset data_set() {
    Generator gen(42);
    return {randn({20, 3}, gen), randn({20, 1}, gen)};
  }
  nn::Sequential model;
  optim::SGD sgd;
  data::DataLoader loader;
  TrainingState state;
};

std::unique_ptr<Run> make_run(std::uint64_t seed) { return std::make_unique<Run>(seed); }

/// Bit-for-bit equal.
bool same(const Tensor& a, const Tensor& b) { return a.shape() == b.shape() && (a == b).all().item<bool>(); }

/// One SGD step on the loader's current batch (saving right after it, as in a range-for body,
/// records the position after this batch).
void train_one_batch(Run& run, const data::Batch& batch) {
  run.sgd.zero_grad();
  mse_loss(run.model(batch.input), batch.target).backward();
  run.sgd.step();
}

/// The first parameter of every rank, stacked.
Tensor everyones(const Run& run) { return group().all_gather(run.model.parameters()[0].detach().contiguous()); }

/// A one-rank transport whose NCCL communicator a watchdog has aborted: work queued after it ran on
/// half-reduced buffers.
using distributed::ProcessGroup;
using distributed::ReduceOp;
using distributed::Work;

class AbortedBackend : public ProcessGroup::Backend {
 public:
  AbortedBackend() : inner_(distributed::make_single_process_backend("test")) {}
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string description() const override { return "aborted (test)"; }
  std::shared_ptr<Work::Impl> all_reduce(const Tensor& t, ReduceOp op) override { return inner_->all_reduce(t, op); }
  std::shared_ptr<Work::Impl> broadcast(const Tensor& t, int root) override { return inner_->broadcast(t, root); }
  std::shared_ptr<Work::Impl> all_gather(const Tensor& in, const Tensor& out) override {
    return inner_->all_gather(in, out);
  }
  void barrier(std::chrono::milliseconds timeout) override { inner_->barrier(timeout); }
  void max_int64(std::int64_t* values, int count, const std::string& what, std::chrono::milliseconds timeout) override {
    inner_->max_int64(values, count, what, timeout);
  }
  void throw_if_failed() override {
    throw distributed::DistributedError("distributed: the NCCL all_reduce of 10 float32 on cuda:0 did not complete");
  }

 private:
  std::unique_ptr<ProcessGroup::Backend> inner_;
};

/// Records the timeout each of its collectives is waited for with.
class RecordingWork : public Work::Impl {
 public:
  explicit RecordingWork(std::chrono::milliseconds* seen) : seen_(seen) {}
  bool test() override { return true; }
  void wait(std::chrono::milliseconds timeout) override { *seen_ = timeout; }

 private:
  std::chrono::milliseconds* seen_;
};

class RecordingBackend : public AbortedBackend {
 public:
  explicit RecordingBackend(std::chrono::milliseconds* seen) : seen_(seen) {}
  std::shared_ptr<Work::Impl> all_reduce(const Tensor&, ReduceOp) override {
    return std::make_shared<RecordingWork>(seen_);
  }
  void throw_if_failed() override {}

 private:
  std::chrono::milliseconds* seen_;
};

// H15: NCCL and the CUDA runtime come in a module, loaded on the first CUDA collective: it loads
// here and has its entry points (a CPU-only program never maps it: distributed.cpu_footprint).
TEST(DistributedNcclModule, LoadsFromBesideLibnudgeDistributed) {
#ifndef NUDGE_TEST_NCCL_MODULE
  GTEST_SKIP() << "built without NCCL";
#else
  const distributed::NcclModule& module = distributed::nccl_module();
  EXPECT_NE(module.make_unique_id, nullptr);
  EXPECT_NE(module.make_communicator, nullptr);
#endif
}

// H16: each group's Work waits with that group's timeout (it was one value for the whole process,
// the last group's).
TEST(DistributedGroups, EachGroupWaitsWithItsOwnTimeout) {
  std::chrono::milliseconds seen_a{0}, seen_b{0};
  ProcessGroup a(std::make_unique<RecordingBackend>(&seen_a), {.timeout = std::chrono::seconds(7)});
  ProcessGroup b(std::make_unique<RecordingBackend>(&seen_b), {.timeout = std::chrono::seconds(90)});
  const Tensor t = ones({4});
  a.all_reduce_unchecked(t, ReduceOp::Sum).wait();
  b.all_reduce_unchecked(t, ReduceOp::Sum).wait();
  EXPECT_EQ(seen_a, std::chrono::seconds(7));
  EXPECT_EQ(seen_b, std::chrono::seconds(90));
}

// H4: after a watchdog abort the model may hold half-reduced gradients' updates: the last good
// checkpoint must stay as it was.
TEST(DistributedCheckpoint, AnAbortedGroupNeverReplacesTheLastGoodCheckpoint) {
  TempDir dir;
  const std::string path = dir / "run.ckpt";
  auto run = make_run(5);
  nudge::save_checkpoint(path, run->state);
  const std::string good = file_contents(path);
  ProcessGroup aborted(std::make_unique<AbortedBackend>(), {});
  NoGradGuard no_grad;
  run->model.parameters()[0].fill_(3);
  EXPECT_TRUE(throws_as<distributed::DistributedError>([&] { distributed::save_checkpoint(aborted, path, run->state); },
                                                       {"did not complete"}));
  EXPECT_EQ(file_contents(path), good);
}

TEST(DistributedCheckpoint, RankZeroWritesEveryRankRestoresItsOwnShard) {
  SharedTempDir dir;
  const std::string path = dir / "run.ckpt";
  auto run = make_run(100 + static_cast<std::uint64_t>(rank()));  // different weights on every rank
  auto it = run->loader.begin();
  train_one_batch(*run, *it);
  run->state.epoch = 0;
  run->state.step = 1;
  distributed::save_checkpoint(group(), path, run->state);
  EXPECT_TRUE(std::filesystem::exists(path)) << "the file is complete when save_checkpoint returns, on every rank";

  // What each rank's loader delivers next, from where the run was saved.
  auto resumed = make_run(7);
  const std::string account = distributed::load_checkpoint(group(), path, resumed->state);
  EXPECT_NE(account.find("step 1"), std::string::npos) << account;
  EXPECT_EQ(resumed->state.step, 1);
  // Rank 0's weights everywhere.
  const Tensor weights = everyones(*resumed);
  for (int r = 0; r < world(); ++r) EXPECT_TRUE(same(weights.select(0, r), weights.select(0, 0))) << "rank " << r;
  if (rank() == 0) {
    EXPECT_TRUE(same(weights.select(0, 0), run->model.parameters()[0].detach()));
  }
  // Each rank's loader goes on with its own shard, from the epoch's second batch.
  EXPECT_EQ(resumed->loader.options().rank, rank());
  auto reference = make_run(7);
  auto ref_it = reference->loader.begin();
  ++ref_it;
  for (auto next = resumed->loader.begin(); next != resumed->loader.end(); ++next, ++ref_it)
    EXPECT_TRUE(same((*next).input, (*ref_it).input)) << "rank " << rank();
  EXPECT_TRUE(ref_it == reference->loader.end());
}

TEST(DistributedCheckpoint, AFailureOnOneRankStopsEveryRank) {
  SharedTempDir dir;
  const std::string path = dir / "run.ckpt";
  auto run = make_run(3);
  run->state.step = 5;
  distributed::save_checkpoint(group(), path, run->state);
  const std::string good = file_contents(path);

  // Rank 0's model diverged: nothing is written, and every rank stops.
  if (rank() == 0) run->model.parameters()[0].detach().fill_(NAN);
  if (rank() == 0) {
    EXPECT_THROW(distributed::save_checkpoint(group(), path, run->state), NonFiniteError);
  } else {
    EXPECT_TRUE(throws_error_with([&] { distributed::save_checkpoint(group(), path, run->state); },
                                  {"distributed::save_checkpoint", "rank 0 failed (", "NaN", "stopping on rank"}));
  }
  EXPECT_EQ(file_contents(path), good) << "the last good checkpoint stays";

  // The last rank cannot read its file: it throws its own error, every other rank one naming it.
  const int last = world() - 1;
  auto resumed = make_run(4);
  const std::string where = rank() == last ? dir / "missing.ckpt" : path;
  if (rank() == last) {
    EXPECT_TRUE(
        throws_error_with([&] { distributed::load_checkpoint(group(), where, resumed->state); }, {"missing.ckpt"}));
  } else {
    EXPECT_TRUE(throws_error_with(
        [&] { distributed::load_checkpoint(group(), where, resumed->state); },
        {"distributed::load_checkpoint", "rank " + std::to_string(last) + " failed (", "missing.ckpt"}));
  }

  // Ranks that read different files (an old copy on one node) are told so.
  if (world() > 1) {
    const std::string old = dir / "old.ckpt";
    run->model.parameters()[0].detach().fill_(0.5);
    run->state.step = 2;
    distributed::save_checkpoint(group(), old, run->state);
    EXPECT_TRUE(
        throws_error_with([&] { distributed::load_checkpoint(group(), rank() == last ? old : path, resumed->state); },
                          {"the ranks restored different points of the run", "rank 0 epoch 0 step 5",
                           "rank " + std::to_string(last) + " epoch 0 step 2"}));
  }
}

TEST(DistributedMetrics, ValuesAreSummedOrAveragedOverTheRanks) {
  const double n = world();
  EXPECT_EQ(distributed::all_reduce_values(group(), {static_cast<double>(rank()), 1.0, 0.25}),
            (std::vector<double>{n * (n - 1) / 2, n, 0.25 * n}));
  EXPECT_EQ(distributed::all_reduce_values(group(), {static_cast<double>(rank()), 2.0}, distributed::ReduceOp::Average),
            (std::vector<double>{(n - 1) / 2, 2.0}));
  EXPECT_EQ(distributed::all_reduce_values(group(), {}), std::vector<double>{});
  if (world() > 1) {
    const std::vector<double> values(rank() == 0 ? 3 : 2, 1.0);
    EXPECT_TRUE(throws_error_with([&] { distributed::all_reduce_values(group(), values); }, {"all_reduce"}));
  }
}

}  // namespace
}  // namespace nudge::testing

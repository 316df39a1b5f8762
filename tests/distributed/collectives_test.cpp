// Collectives on CPU tensors (MPI) at any world size: values, dtypes, empty and odd sizes,
// asynchronous work, and the errors for arguments the ranks disagree on.
#include <numeric>

#include "distributed_test_util.h"

namespace nudge::testing {
namespace {

using distributed::ReduceOp;

/// [0, 1, ..., n-1] + rank, in `dtype`.
Tensor ramp(std::int64_t n, DType dtype) { return (arange(n, TensorOptions(kInt64)) + rank()).to(dtype); }

TEST(Collectives, AllReduceSumsAndAveragesEveryDtypeAndSize) {
  const double w = world(), rank_sum = w * (w - 1) / 2;
  for (DType dtype : {kFloat32, kFloat64, kInt64}) {
    for (std::int64_t n : {0, 1, 7, 1027, 100003, 1200007}) {  // the last goes as several 4 MiB messages
      SCOPED_TRACE(std::string(dtype_name(dtype)) + " n=" + std::to_string(n));
      Tensor t = ramp(n, dtype);
      group().all_reduce(t);
      const std::vector<double> got = t.to_vector<double>();
      for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(got[i], w * static_cast<double>(i) + rank_sum) << i;
      if (dtype == kInt64) continue;
      Tensor a = ramp(n, dtype);
      group().all_reduce(a, ReduceOp::Average);
      const std::vector<double> mean = a.to_vector<double>();
      for (std::int64_t i = 0; i < n; ++i) ASSERT_NEAR(mean[i], static_cast<double>(i) + rank_sum / w, 1e-3) << i;
    }
  }
}

TEST(Collectives, BroadcastCopiesTheRootsTensor) {
  const int root = world() - 1;
  for (DType dtype : {kFloat32, kFloat64, kInt64, kBool}) {
    Tensor t = full({3, 5}, rank() + 1, TensorOptions(dtype));
    group().broadcast(t, root);
    EXPECT_TRUE(all(t == full({3, 5}, root + 1, TensorOptions(dtype))).item<bool>()) << dtype_name(dtype);
  }
  Tensor big = full({1500001}, rank() + 1, TensorOptions(kFloat64));  // several messages
  group().broadcast(big, root);
  EXPECT_EQ(sum(big == root + 1).item<std::int64_t>(), 1500001);
  EXPECT_TRUE(throws_error_with([&] { group().broadcast(zeros({1}), world()); }, {"is not a rank"}));
}

TEST(Collectives, AllGatherStacksEveryRanksTensor) {
  const Tensor mine = full({2, 3}, rank(), TensorOptions(kFloat64));
  const Tensor all_ranks = group().all_gather(mine);
  ASSERT_EQ(all_ranks.shape(), (Shape{world(), 2, 3}));
  for (int r = 0; r < world(); ++r) EXPECT_TRUE(all(all_ranks[r] == r).item<bool>()) << r;
  // Non-contiguous input is gathered as its values; bool too.
  const Tensor gathered = group().all_gather(arange(6, TensorOptions(kInt64)).reshape({2, 3}).t() > rank());
  EXPECT_EQ(gathered.dtype(), kBool);
  EXPECT_EQ(gathered.shape(), (Shape{world(), 3, 2}));
  EXPECT_EQ(group().all_gather(zeros({0})).shape(), (Shape{world(), 0}));
}

TEST(Collectives, AsynchronousWorkCompletesAndBarrierReturns) {
  Tensor a = ramp(50000, kFloat64), b = ramp(3, kFloat32);
  distributed::Work wa = group().all_reduce(a), wb = group().all_reduce(b, ReduceOp::Average);
  wb.wait();
  while (!wa.is_completed()) {}
  EXPECT_DOUBLE_EQ(a.to_vector<double>()[10], 10.0 * world() + world() * (world() - 1) / 2.0);
  EXPECT_TRUE(wa.is_completed());  // and stays completed
  group().barrier();
}

TEST(Collectives, BadArgumentsAreClearErrorsOnEveryRank) {
  Tensor t = zeros({4, 4}, TensorOptions(kFloat64));
  EXPECT_TRUE(throws_error_with([&] { group().all_reduce(t.t()); }, {"contiguous"}));
  EXPECT_TRUE(throws_error_with([&] { group().all_reduce(zeros({2}, TensorOptions(kInt64)), ReduceOp::Average); },
                                {"an average needs a float tensor"}));
  EXPECT_TRUE(throws_error_with([&] { group().all_reduce(zeros({2}, TensorOptions(kBool))); }, {"bool"}));
  if (world() == 1) GTEST_SKIP() << "a disagreement needs two ranks";
  // Rank 0 passes 3 elements, the others 4: every rank learns it, none hangs.
  Tensor mismatched = zeros({rank() == 0 ? 3 : 4});
  EXPECT_TRUE(throws_as<distributed::DistributedError>([&] { group().all_reduce(mismatched); },
                                                       {"the ranks disagree on the element count"}));
  Tensor other_dtype = zeros({4}, TensorOptions(rank() == 0 ? kFloat32 : kFloat64));
  EXPECT_TRUE(
      throws_as<distributed::DistributedError>([&] { group().broadcast(other_dtype); }, {"disagree on the dtype"}));
  group().barrier();  // everyone still in step
}

/// NCCL needs a GPU per rank: these run at world size 1 on a one-GPU machine, and at any size on
/// a machine with a GPU for every rank.
/// Under NUDGE_REQUIRE_CUDA (the self-test on a GPU machine) a missing CUDA device is a failure.
bool skip_without_a_gpu_per_rank() {
  if (!cuda::is_available()) {
    if (cuda_required()) ADD_FAILURE() << "CUDA required: " << cuda::unavailable_reason();
    std::printf("SKIPPED: %s\n", cuda::unavailable_reason().c_str());
    return true;
  }
  if (cuda::device_count() < world()) {
    std::printf("SKIPPED: %d ranks but %d GPUs (NCCL needs one per rank)\n", world(), cuda::device_count());
    return true;
  }
  return false;
}

TEST(CollectivesCuda, AllReduceBroadcastAndAllGatherOnTheDevice) {
  if (skip_without_a_gpu_per_rank()) GTEST_SKIP() << "no GPU for every rank";
  const Device device = environment->device();
  for (DType dtype : {kFloat32, kFloat64, kInt64}) {
    for (std::int64_t n : {1, 1027, 1 << 20}) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + " n=" + std::to_string(n));
      Tensor t = ramp(n, dtype).to(device);
      group().all_reduce(t);
      Tensor expected = ramp(n, dtype);
      group().all_reduce(expected);  // the same sum over MPI, on the CPU
      EXPECT_TRUE(all_close(t.cpu(), expected, 0, 0));
      if (dtype == kInt64) continue;
      Tensor a = ramp(n, dtype).to(device);
      group().all_reduce(a, ReduceOp::Average);
      EXPECT_TRUE(all_close(a.cpu(), (expected.to(kFloat64) / world()).to(dtype), 1e-5, 1e-6));
    }
  }
  Tensor b = full({4}, rank() + 1, TensorOptions(kFloat32).device(device));
  group().broadcast(b, 0);
  EXPECT_TRUE(values_are(b.cpu(), {1, 1, 1, 1}, 0));
  const Tensor gathered = group().all_gather(full({2}, rank(), TensorOptions(kFloat64).device(device)));
  EXPECT_EQ(gathered.device(), device);
  for (int r = 0; r < world(); ++r) EXPECT_TRUE(values_are(gathered[r].cpu(), {double(r), double(r)}, 0));
}

// H7: NCCL allocates buffers for a new size with cudaMalloc, beside nudge's pool, which keeps freed
// blocks without limit: before a collective of a new largest size the pool's cache is given back.
TEST(CollectivesCuda, ACollectiveOfANewLargestSizeGivesCachedMemoryBack) {
  if (skip_without_a_gpu_per_rank()) GTEST_SKIP() << "no GPU for every rank";
  const Device device = environment->device();
  constexpr std::int64_t kCachedFloats = std::int64_t{64} << 20;                                // 256 MiB
  Tensor t = full({(std::int64_t{1} << 24) + 3}, 1.0, TensorOptions(kFloat64).device(device));  // > every other test's
  { const Tensor cached = empty({kCachedFloats}, TensorOptions(kFloat32).device(device)); }
  cuda::synchronize(device.index());
  const std::size_t before = cuda::memory_reserved(device.index());
  ASSERT_GE(before, static_cast<std::size_t>(kCachedFloats) * 4) << "the freed block is cached";
  group().all_reduce(t);
  EXPECT_LE(cuda::memory_reserved(device.index()) + static_cast<std::size_t>(kCachedFloats) * 4, before);
  EXPECT_TRUE(values_are(t.narrow(0, 0, 2).cpu(), {double(world()), double(world())}, 0));
}

// NCCL 2.9+ collectives can be captured: the all-reduce becomes part of the graph and runs at each
// replay (not at capture), in stream order with the kernels around it.
TEST(CollectivesCuda, AnAllReduceCapturedInAGraphRunsAtEachReplay) {
  if (skip_without_a_gpu_per_rank()) GTEST_SKIP() << "no GPU for every rank";
  const Device device = environment->device();
  Tensor t = full({1027}, 1.0, TensorOptions(kFloat64).device(device));
  group().all_reduce(full({1}, 1.0, TensorOptions(kFloat64).device(device)));  // the communicator exists before
  cuda::Graph graph;
  graph.capture(
      [&] {
        t.mul_(2.0);
        group().all_reduce(t);
      },
      device.index());
  EXPECT_TRUE(values_are(t.cpu().narrow(0, 0, 2), {1, 1}, 0)) << "capturing runs nothing";
  graph.replay();
  graph.replay();
  const double once = 2.0 * world();
  EXPECT_TRUE(values_are(t.cpu().narrow(0, 1025, 2), {once * once, once * once}, 0));
}

}  // namespace
}  // namespace nudge::testing

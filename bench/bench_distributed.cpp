// Distributed training, run under `mpirun -np N bench_distributed`:
//   allreduce/<bytes>/<device>      all-reduce of a float32 tensor: algbw = bytes / time and, as
//                                   nccl-tests reports it, busbw = algbw · 2(N−1)/N (the bandwidth
//                                   each link carries, comparable across N)
//   ddp_step/medium/<batch>/<dev>   one training step (forward, backward with the gradient
//                                   all-reduce, SGD) of the 784-256-128-10 MLP, <batch> per rank
// Every rank runs the same fixed iteration counts (so the collectives pair up) and times its own;
// rank 0 reports (the others' reporters are silent). bench/run runs it at 1 and 2 ranks; the
// scaling efficiency is samples/s at N ranks over N × samples/s at one.
#include <chrono>
#include <cstdio>

#include "bench_util.h"
#include "distributed/distributed.h"

namespace {

using nudge::Tensor;
namespace distributed = nudge::distributed;

distributed::Environment* env = nullptr;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void sync(nudge::Device device) {
  if (device.is_cuda()) nudge::cuda::synchronize(device.index());
}

void all_reduce_bandwidth(benchmark::State& state, nudge::Device device, std::int64_t bytes) {
  Tensor t = nudge::ones({bytes / 4}, nudge::TensorOptions(nudge::kFloat32).device(device));
  env->group().all_reduce(t).wait();  // warm: connections, NCCL communicator
  sync(device);
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    env->group().all_reduce_unchecked(t, distributed::ReduceOp::Sum).wait();
    sync(device);
    state.SetIterationTime(seconds_since(start));
  }
  const double n = env->world_size();
  state.counters["algbw_GBps"] =
      benchmark::Counter(static_cast<double>(bytes) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["busbw_GBps"] = benchmark::Counter(static_cast<double>(bytes) * 1e-9 * 2 * (n - 1) / n,
                                                    benchmark::Counter::kIsIterationInvariantRate);
  state.counters["ranks"] = n;
}

void ddp_step(benchmark::State& state, nudge::Device device, std::int64_t batch) {
  nudge::manual_seed(1);
  nudge::nn::Sequential model(nudge::nn::Linear(784, 256, nudge::nn::Activation::ReLU),
                              nudge::nn::Linear(256, 128, nudge::nn::Activation::ReLU), nudge::nn::Linear(128, 10));
  model.to(device);
  distributed::DistributedDataParallel ddp(model, env->group());
  nudge::optim::SGD sgd(model.parameters(), {.lr = 0.01, .momentum = 0.9});
  nudge::Generator gen(2 + static_cast<std::uint64_t>(env->rank()));
  const Tensor x = nudge::randn({batch, 784}, gen).to(device);
  const Tensor y = nudge::randint(0, 10, {batch}, gen, nudge::TensorOptions(nudge::kInt64)).to(device);
  const auto step = [&] {
    sgd.zero_grad();
    nudge::cross_entropy(ddp(x), y).backward();
    sgd.step();
  };
  step();
  sync(device);
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    step();
    sync(device);
    state.SetIterationTime(seconds_since(start));
  }
  const double n = env->world_size();
  state.counters["samples_per_s"] =
      benchmark::Counter(static_cast<double>(batch) * n, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["samples_per_s_per_rank"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["ranks"] = n;
}

/// Reports nothing: the ranks other than 0.
class Silent : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  distributed::Environment environment;
  env = &environment;
  benchmark::Initialize(&argc, argv);
  const bool quick = bench::quick();
  for (const nudge::Device device : bench::devices()) {
    if (device.is_cuda() && nudge::cuda::device_count() < environment.world_size()) continue;  // NCCL: a GPU per rank
    const nudge::Device on = device.is_cuda() ? environment.device() : device;
    for (std::int64_t bytes = 4 << 10; bytes <= (quick ? (1 << 20) : (64 << 20)); bytes *= 4)
      bench::add("allreduce/" + std::to_string(bytes) + "/" + bench::tag(device), [on, bytes](benchmark::State& s) {
        all_reduce_bandwidth(s, on, bytes);
      })->Iterations(bytes >= (16 << 20) ? 10 : (quick ? 5 : 50));
    for (const std::int64_t batch : {256, 1024})
      bench::add("ddp_step/medium/" + std::to_string(batch) + "/" + bench::tag(device), [on,
                                                                                         batch](benchmark::State& s) {
        ddp_step(s, on, batch);
      })->Iterations(quick ? 3 : 30);
  }
  if (environment.rank() == 0) {
    std::printf("bench_distributed: %s\n", environment.description().c_str());
    benchmark::RunSpecifiedBenchmarks();
  } else {
    Silent silent;
    benchmark::RunSpecifiedBenchmarks(&silent);  // --benchmark_out is rank 0's to write
  }
  benchmark::Shutdown();
  return 0;
}

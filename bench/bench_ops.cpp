// Micro-benchmarks of single ops on each available device: per-op overhead on tiny tensors,
// elementwise bandwidth (GB/s) and matmul throughput (GFLOP/s).
// CUDA rows synchronise every iteration and use wall-clock time; CUDA-event timing, L2 flushing
// and the comparison with PyTorch and copy bandwidth belong to the benchmark suite (issue 6).
#include <benchmark/benchmark.h>

#include <nudge/nudge.h>

namespace {

using namespace nudge;

void sync(Device d) {
  if (d.is_cuda()) cuda::synchronize(d.index());
}

void BM_AddTiny(benchmark::State& state, Device device) {
  const Tensor a = ones({4}, device), b = ones({4}, device);
  for (auto _ : state) {
    Tensor c = a + b;
    benchmark::DoNotOptimize(c);
  }
  sync(device);
}

void BM_AddRecordedTiny(benchmark::State& state, Device device) {
  Tensor a = ones({4}, device);
  a.requires_grad_();
  const Tensor b = ones({4}, device);
  for (auto _ : state) {
    Tensor c = a * b;
    benchmark::DoNotOptimize(c);
  }
  sync(device);
}

void BM_Add(benchmark::State& state, Device device) {
  const std::int64_t n = state.range(0);
  const Tensor a = ones({n}, device), b = ones({n}, device);
  for (auto _ : state) {
    Tensor c = a + b;
    sync(device);
    benchmark::DoNotOptimize(c);
  }
  state.counters["GB/s"] = benchmark::Counter(3.0 * 4 * static_cast<double>(n) * static_cast<double>(state.iterations()),
                                              benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}

void BM_Matmul(benchmark::State& state, Device device) {
  const std::int64_t n = state.range(0);
  const Tensor a = randn({n, n}, device), b = randn({n, n}, device);
  for (auto _ : state) {
    Tensor c = matmul(a, b);
    sync(device);
    benchmark::DoNotOptimize(c);
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * n * n * static_cast<double>(state.iterations()) / 1e9,
                                                 benchmark::Counter::kIsRate);
}

void register_for(Device device, const std::string& tag) {
  // Wall-clock time throughout: BLAS threads and GPU work make CPU time meaningless.
  benchmark::RegisterBenchmark(("add_tiny/" + tag).c_str(), BM_AddTiny, device)->UseRealTime();
  benchmark::RegisterBenchmark(("mul_tiny_recorded/" + tag).c_str(), BM_AddRecordedTiny, device)->UseRealTime();
  benchmark::RegisterBenchmark(("add/" + tag).c_str(), BM_Add, device)->RangeMultiplier(16)->Range(1 << 10, 1 << 24)->UseRealTime();
  benchmark::RegisterBenchmark(("matmul/" + tag).c_str(), BM_Matmul, device)->RangeMultiplier(4)->Range(64, 1024)->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
  register_for(Device::cpu(), "cpu");
  if (cuda::is_available()) register_for(Device::cuda(0), "cuda");
  else std::fprintf(stderr, "CUDA rows not run: %s\n", cuda::unavailable_reason().c_str());
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}

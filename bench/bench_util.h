#pragma once
// What every benchmark program shares: the devices to run on, device-time measurement (CUDA
// events on the GPU, wall clock on the CPU), an L2 flush for bandwidth runs, and the counters
// each row reports (GB/s, fraction of measured copy bandwidth, TFLOP/s, samples/s).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nudge/nudge.h>

namespace bench {

using nudge::Device;

/// The CPU, plus cuda:0 when usable; without a GPU prints once why CUDA rows are absent.
std::vector<Device> devices();
/// "cpu" or "cuda": the tag benchmark names end with.
std::string tag(Device device);
/// True in quick mode (NUDGE_BENCH_QUICK=1): fewer and smaller sizes, for the test of bench/run.
bool quick();

/// Runs `work` once untimed, then once per benchmark iteration, and reports its device time (UseManualTime): the
/// span between CUDA events recorded around it on the GPU (including any time the GPU waited for
/// the host), wall clock on the CPU. With `flush`, the L2 cache is evicted before each iteration
/// (outside the timed span), so bandwidth rows read from memory, not cache.
/// Returns the mean seconds per iteration.
template <class Work> double run_timed(benchmark::State& state, Device device, Work&& work, bool flush = false);

/// Registers `fn(state)` under `name`, timed manually (run_timed), in microseconds.
template <class Fn> benchmark::internal::Benchmark* add(const std::string& name, Fn&& fn) {
  return benchmark::RegisterBenchmark(name.c_str(), std::forward<Fn>(fn))
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
}

/// Evicts the GPU's L2 cache by writing a buffer larger than it.
void flush_l2(Device device);

/// Measured copy bandwidth of `device` in GB/s (bytes read + written per second): a 256 MiB
/// device-to-device cudaMemcpy on the GPU, memcpy on the CPU. Measured once per process.
double copy_bandwidth_gbps(Device device);

/// Counters: bytes moved per iteration -> "GB/s" and "of_copy_bw" (its fraction of copy bandwidth).
void set_bytes(benchmark::State& state, Device device, double bytes_per_iteration);
/// Floating-point operations per iteration -> "TFLOP/s".
void set_flops(benchmark::State& state, double flops_per_iteration);
/// Training samples per iteration -> "samples/s".
void set_samples(benchmark::State& state, double samples_per_iteration);

/// Seconds per call of a direct cuBLAS SGEMM of the same shape (row-major [m,k]·[k,n]) on
/// cuda:0, the limit nudge's matmul is compared with; 0 when CUDA is absent.
double cublas_sgemm_seconds(std::int64_t m, std::int64_t n, std::int64_t k, bool tf32);
/// Seconds of one device-to-device cudaMemcpy of `bytes` on cuda:0.
double cuda_memcpy_seconds(std::int64_t bytes);

// ---- implementation of the template ----------------------------------------------------------

class DeviceTimer {
 public:
  explicit DeviceTimer(Device device);
  void start();
  /// Seconds since start(), after the device finished the work queued in between.
  double stop();

 private:
  Device device_;
  std::unique_ptr<nudge::cuda::Event> begin_, end_;
  double wall_start_ = 0;
};

template <class Work> double run_timed(benchmark::State& state, Device device, Work&& work, bool flush) {
  DeviceTimer timer(device);
  // Warm-up, untimed: caches, cuBLAS heuristics and the allocators' pools are primed. Twice,
  // because `out = f(in)` holds the previous output while allocating the next.
  work();
  work();
  double total = 0;
  for (auto _ : state) {
    if (flush) flush_l2(device);
    timer.start();
    work();
    const double seconds = timer.stop();
    state.SetIterationTime(seconds);
    total += seconds;
  }
  return state.iterations() > 0 ? total / static_cast<double>(state.iterations()) : 0;
}

}  // namespace bench

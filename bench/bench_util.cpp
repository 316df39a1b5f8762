#include "bench_util.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>

namespace bench {

namespace {
double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

std::vector<Device> devices() {
  std::vector<Device> out{Device::cpu()};
  if (nudge::cuda::is_available()) {
    out.push_back(Device::cuda(0));
  } else {
    static bool said = false;
    if (!said) std::fprintf(stderr, "CUDA rows not available: %s\n", nudge::cuda::unavailable_reason().c_str());
    said = true;
  }
  return out;
}

std::string tag(Device device) { return device.is_cuda() ? "cuda" : "cpu"; }

bool quick() {
  const char* env = std::getenv("NUDGE_BENCH_QUICK");
  return env != nullptr && std::strcmp(env, "0") != 0;
}

DeviceTimer::DeviceTimer(Device device) : device_(device) {
  if (device.is_cuda()) {
    begin_ = std::make_unique<nudge::cuda::Event>();
    end_ = std::make_unique<nudge::cuda::Event>();
  }
}

void DeviceTimer::start() {
  if (device_.is_cuda()) begin_->record(device_.index());
  else wall_start_ = now_seconds();
}

double DeviceTimer::stop() {
  if (!device_.is_cuda()) return now_seconds() - wall_start_;
  end_->record(device_.index());
  end_->synchronize();
  return end_->elapsed_ms(*begin_) / 1e3;
}

void flush_l2(Device device) {
  if (!device.is_cuda()) return;
  // 256 MiB, more than any L2; never freed (a static Tensor would outlive the CUDA runtime).
  static auto* scratch =
      new nudge::Tensor(nudge::empty({64 << 20}, nudge::TensorOptions(nudge::kFloat32).device(device)));
  scratch->zero_();
}

void set_bytes(benchmark::State& state, Device device, double bytes_per_iteration) {
  const double gbps = bytes_per_iteration * static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(gbps / 1e9, benchmark::Counter::kIsRate);
  // The rate counter divides by the (manual) time; so does the copy fraction.
  state.counters["of_copy_bw"] =
      benchmark::Counter(gbps / 1e9 / copy_bandwidth_gbps(device), benchmark::Counter::kIsRate);
}

void set_flops(benchmark::State& state, double flops_per_iteration) {
  state.counters["TFLOP/s"] = benchmark::Counter(flops_per_iteration * static_cast<double>(state.iterations()) / 1e12,
                                                 benchmark::Counter::kIsRate);
}

void set_samples(benchmark::State& state, double samples_per_iteration) {
  state.counters["samples/s"] =
      benchmark::Counter(samples_per_iteration * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

double copy_bandwidth_gbps(Device device) {
  static std::map<std::string, double> measured;
  const std::string key = device.str();
  if (auto it = measured.find(key); it != measured.end()) return it->second;
  const std::int64_t n = 64 << 20;  // floats: 256 MiB
  double best = 1e30;
  if (device.is_cuda()) {
    for (int i = 0; i < 5; ++i) best = std::min(best, cuda_memcpy_seconds(4 * n));
  } else {
    std::vector<float> src(static_cast<std::size_t>(n), 1.0f), dst(static_cast<std::size_t>(n));
    for (int i = 0; i < 5; ++i) {
      const double start = now_seconds();
      std::memcpy(dst.data(), src.data(), 4 * static_cast<std::size_t>(n));
      best = std::min(best, now_seconds() - start);
      benchmark::DoNotOptimize(dst.data());
    }
  }
  const double gbps = 2.0 * 4 * static_cast<double>(n) / best / 1e9;  // read + write
  std::fprintf(stderr, "%s copy bandwidth: %.1f GB/s (read + write)\n", key.c_str(), gbps);
  return measured[key] = gbps;
}

}  // namespace bench

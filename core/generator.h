#pragma once
/// Seeded random numbers. Values are always drawn on the host and then copied to the target
/// device, so the same seed gives the same tensor on CPU and on CUDA: CPU and GPU training runs
/// start from identical weights and can be compared step by step.
///
/// Threads: every factory that draws (rand, randn, nn::init, the layers' initialisation) holds
/// the generator's lock for the whole tensor, so two threads may share a generator, the default
/// one included: each tensor is one contiguous run of draws, and which thread's tensor comes first
/// is up to the scheduler. For reproducible multi-threaded runs, give each thread its own
/// Generator. Calling the draw methods below directly from two threads needs lock() around them.
#include <cstdint>
#include <limits>
#include <mutex>
#include <random>

#include "core/graph.h"

namespace nudge {

class Tensor;

class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0) : engine_(seed) {}
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  void manual_seed(std::uint64_t seed) {
    const std::lock_guard<std::mutex> guard(mutex_);
    engine_.seed(seed);
    has_spare_normal_ = false;
  }
  /// Held while a tensor is drawn.
  /// Refused inside a CPU Graph capture: every replay would reuse the captured draw.
  [[nodiscard]] std::unique_lock<std::mutex> lock() {
    detail::refuse_in_cpu_capture("random numbers (every replay would reuse the captured draw)");
    return std::unique_lock<std::mutex>(mutex_);
  }

  /// Uniform in [0, 1) with 53 random bits.
  double uniform_double() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  /// Uniform in [0, 1) with 24 random bits, so it never rounds up to 1.0f.
  float uniform_float() { return static_cast<float>(engine_() >> 40) * 0x1.0p-24f; }
  /// Uniform integer in [0, n), n > 0, without modulo bias (rejection sampling).
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit =
        std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
    std::uint64_t r = engine_();
    while (r >= limit) r = engine_();
    return r % n;
  }
  /// Standard normal (Box-Muller; the second value of each pair is kept for the next call).
  double normal();

  /// The whole state (the engine's words, its position, a kept normal) as an int64 CPU tensor, as
  /// torch.Generator.get_state() gives it as bytes: what a checkpoint saves so a resumed run draws
  /// exactly what the uninterrupted one would have.
  Tensor get_state();
  /// Restores a state from get_state(); anything else is a nudge::FormatError and leaves this
  /// generator as it was.
  void set_state(const Tensor& state);

 private:
  std::mutex mutex_;
  std::mt19937_64 engine_;
  bool has_spare_normal_ = false;
  double spare_normal_ = 0;
};

/// The generator used when none is passed (seed 0 until manual_seed is called).
Generator& default_generator();
/// Reseeds the default generator, like torch::manual_seed.
void manual_seed(std::uint64_t seed);

}  // namespace nudge

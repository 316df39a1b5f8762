// Single ops on every available device with the same sizes: elementwise and reduction bandwidth
// (GB/s, fraction of measured copy bandwidth), matmul throughput (TFLOP/s, and on the GPU the
// fraction of a direct cuBLAS call's speed), host<->device copies, and per-op overhead on tiny
// tensors (dispatch, allocation, graph recording).
#include "bench_util.h"

namespace {

using namespace nudge;
using bench::add;

std::vector<std::int64_t> elementwise_sizes() {
  if (bench::quick()) return {1 << 10, 1 << 16};
  return {1 << 10, 1 << 14, 1 << 18, 1 << 22, 1 << 26, 1 << 28};
}

std::vector<std::int64_t> square_sizes(Device device) {
  if (bench::quick()) return {64, 256};
  if (device.is_cuda()) return {64, 128, 256, 512, 1024, 2048, 4096, 8192};
  return {64, 128, 256, 512, 1024, 2048};  // 4096³ on a few CPU cores takes seconds per call
}

void register_elementwise(Device device) {
  const std::string dev = bench::tag(device);
  for (const std::int64_t n : elementwise_sizes()) {
    const bool flush = n >= (1 << 22);  // large rows must come from memory, not L2
    auto* add_row = add("op/add/n" + std::to_string(n) + "/" + dev, [=](benchmark::State& state) {
      const Tensor a = ones({n}, device), b = ones({n}, device);
      Tensor c;
      bench::run_timed(
          state, device, [&] { c = a + b; }, flush);
      bench::set_bytes(state, device, 3.0 * 4 * n);
    });
    // A 1 GiB add takes ~0.1 s: with the default time one iteration is measured, and any page
    // fault of a block not yet reused (the CPU allocator caches freed large blocks; the first
    // touch of a fresh 1 GiB costs 0.4-1.7 s on this VM) weighs as much as the add itself. This
    // was the "3.6 s per 1 GiB add" noted earlier: steady-state adds run at the memory's speed.
    if (n >= (std::int64_t{1} << 26) && !bench::quick()) add_row->MinTime(3.0);
    // Transcendentals (on the CPU: SLEEF's vectorised functions where the CPU has AVX2).
    for (const auto& [name, op] :
         {std::pair{"sigmoid", &nudge::sigmoid}, std::pair{"exp", &nudge::exp}, std::pair{"tanh", &nudge::tanh}}) {
      add("op/" + std::string(name) + "/n" + std::to_string(n) + "/" + dev, [=](benchmark::State& state) {
        const Tensor a = ones({n}, device);
        Tensor c;
        bench::run_timed(
            state, device, [&] { c = op(a); }, flush);
        bench::set_bytes(state, device, 2.0 * 4 * n);
      });
    }
    add("op/sum/n" + std::to_string(n) + "/" + dev, [=](benchmark::State& state) {
      const Tensor a = ones({n}, device);
      Tensor s;
      bench::run_timed(
          state, device, [&] { s = sum(a); }, flush);
      bench::set_bytes(state, device, 4.0 * n);
    });
  }
  // Row sums of a [rows, 256] matrix (dim 1) and column sums (dim 0): the bias-gradient shape.
  for (const std::int64_t rows :
       bench::quick() ? std::vector<std::int64_t>{1024} : std::vector<std::int64_t>{1024, 262144}) {
    for (const int dim : {0, 1}) {
      add("op/sum_dim" + std::to_string(dim) + "/" + std::to_string(rows) + "x256/" + dev,
          [=](benchmark::State& state) {
            const Tensor a = ones({rows, 256}, device);
            Tensor s;
            bench::run_timed(
                state, device, [&] { s = sum(a, dim); }, rows >= 262144);
            bench::set_bytes(state, device, 4.0 * rows * 256);
          });
    }
  }
}

void register_matmul(Device device) {
  const std::string dev = bench::tag(device);
  auto gemm = [=](const std::string& name, std::int64_t m, std::int64_t n, std::int64_t k, bool tf32) {
    add("op/" + name + "/" + dev, [=](benchmark::State& state) {
      const Tensor a = randn({m, k}, device), b = randn({k, n}, device);
      Tensor c;
      cuda::set_allow_tf32(tf32);
      const double seconds = bench::run_timed(state, device, [&] { c = matmul(a, b); });
      cuda::set_allow_tf32(false);
      bench::set_flops(state, 2.0 * m * n * k);
      if (device.is_cuda()) state.counters["of_cublas"] = bench::cublas_sgemm_seconds(m, n, k, tf32) / seconds;
    });
  };
  for (const std::int64_t n : square_sizes(device)) gemm("matmul/" + std::to_string(n), n, n, n, false);
  if (device.is_cuda() && !bench::quick())
    for (const std::int64_t n : {4096, 8192}) gemm("matmul_tf32/" + std::to_string(n), n, n, n, true);
  // The layers of the training benchmarks: [batch, in] · [in, out].
  for (const std::int64_t batch :
       bench::quick() ? std::vector<std::int64_t>{64} : std::vector<std::int64_t>{64, 1024, 4096})
    gemm("matmul/mlp_784x256/b" + std::to_string(batch), batch, 256, 784, false);
  if (!bench::quick())
    for (const std::int64_t batch :
         device.is_cuda() ? std::vector<std::int64_t>{1024, 8192} : std::vector<std::int64_t>{1024})
      gemm("matmul/mlp_4096x4096/b" + std::to_string(batch), batch, 4096, 4096, false);
}

/// Host <-> device copies, pageable and pinned host memory (GPU only).
void register_copies(Device device) {
  if (!device.is_cuda()) return;
  for (const std::int64_t bytes :
       bench::quick() ? std::vector<std::int64_t>{1 << 20} : std::vector<std::int64_t>{1 << 20, 1 << 24, 1 << 28}) {
    for (const bool pinned : {false, true}) {
      const std::string suffix = std::to_string(bytes) + "B" + (pinned ? "_pinned" : "") + "/cuda";
      add("copy/h2d/" + suffix, [=](benchmark::State& state) {
        Tensor host = zeros({bytes / 4});
        if (pinned) host = host.pin_memory();
        Tensor dev;
        bench::run_timed(state, device, [&] { dev = host.to(device, pinned); });
        state.counters["GB/s"] =
            benchmark::Counter(double(bytes) * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
      });
      add("copy/d2h/" + suffix, [=](benchmark::State& state) {
        const Tensor dev = zeros({bytes / 4}, device);
        Tensor host = zeros({bytes / 4});
        if (pinned) host = host.pin_memory();
        bench::run_timed(state, device, [&] { host.copy_(dev); });
        state.counters["GB/s"] =
            benchmark::Counter(double(bytes) * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
      });
    }
  }
}

/// Per-op overhead: on 4 elements the time is all dispatch, allocation and (recorded) graph work.
void register_overhead(Device device) {
  const std::string dev = bench::tag(device);
  add("overhead/add_4/" + dev, [=](benchmark::State& state) {
    const Tensor a = ones({4}, device), b = ones({4}, device);
    Tensor c;
    bench::run_timed(state, device, [&] {
      for (int i = 0; i < 100; ++i) c = a + b;
    });
    state.counters["ops/s"] = benchmark::Counter(100.0 * double(state.iterations()), benchmark::Counter::kIsRate);
  });
  add("overhead/mul_4_recorded/" + dev, [=](benchmark::State& state) {
    const Tensor a = ones({4}, device).requires_grad_(), b = ones({4}, device);
    Tensor c;
    bench::run_timed(state, device, [&] {
      for (int i = 0; i < 100; ++i) c = a * b;
    });
    state.counters["ops/s"] = benchmark::Counter(100.0 * double(state.iterations()), benchmark::Counter::kIsRate);
  });
}

/// index_select of rows, as an Embedding looks tokens up: [V, D] table, [B] indices. Bytes: the
/// rows read and written, and the index.
void register_indexing(Device device) {
  const std::string dev = bench::tag(device);
  const std::int64_t vocab = 50000, dim = 512;
  for (const std::int64_t batch :
       bench::quick() ? std::vector<std::int64_t>{1024} : std::vector<std::int64_t>{1024, 65536}) {
    add("op/index_select/" + std::to_string(vocab) + "x" + std::to_string(dim) + "/b" + std::to_string(batch) + "/" +
            dev,
        [=](benchmark::State& state) {
          const Tensor table = randn({vocab, dim}, device);
          const Tensor index = randint(0, vocab, {batch}, TensorOptions(kInt64).device(device));
          Tensor rows;
          bench::run_timed(state, device, [&] { rows = index_select(table, 0, index); });
          bench::set_bytes(state, device, 2.0 * 4 * batch * dim + 8.0 * batch);
        });
  }
}

/// The CNN example's layers at batch 64 (the second convolution: 16 → 32 channels, 5×5, 14×14,
/// padding 2; its max-pooling; batch norm of its output): forward, and the convolution's forward
/// and backward. Convolution FLOPs: 2·N·C_out·L·C_in·k² (forward; the backward twice that).
void register_spatial(Device device) {
  const std::string dev = bench::tag(device);
  const std::int64_t n = 64, cin = 16, cout = 32, side = 14, k = 5;
  const double conv_flops = 2.0 * n * cout * side * side * cin * k * k;
  add("op/conv2d/b64_16x14x14_k5_32/" + dev, [=](benchmark::State& state) {
    const Tensor x = randn({n, cin, side, side}, device), w = randn({cout, cin, k, k}, device);
    const Tensor b = randn({cout}, device);
    NoGradGuard no_grad;
    bench::run_timed(state, device, [&] { (void)conv2d(x, w, b, 1, 2); });
    bench::set_flops(state, conv_flops);
  });
  add("op/conv2d_fwd_bwd/b64_16x14x14_k5_32/" + dev, [=](benchmark::State& state) {
    const Tensor x = randn({n, cin, side, side}, device).requires_grad_();
    const Tensor w = randn({cout, cin, k, k}, device).requires_grad_(), b = randn({cout}, device).requires_grad_();
    bench::run_timed(state, device, [&] { conv2d(x, w, b, 1, 2).sum().backward(); });  // grads accumulate
    bench::set_flops(state, 3 * conv_flops);
  });
  add("op/max_pool2d/b64_32x14x14_k2/" + dev, [=](benchmark::State& state) {
    const Tensor x = randn({n, cout, side, side}, device);
    NoGradGuard no_grad;
    bench::run_timed(state, device, [&] { (void)max_pool2d(x, 2); });
    bench::set_bytes(state, device, 4.0 * n * cout * side * side * 1.25);
  });
  add("op/batch_norm_train/b64_32x14x14/" + dev, [=](benchmark::State& state) {
    const Tensor x = randn({n, cout, side, side}, device);
    Tensor mean = zeros({cout}, device), var = ones({cout}, device);
    NoGradGuard no_grad;
    bench::run_timed(state, device, [&] { (void)batch_norm(x, mean, var, {}, {}, true); });
    bench::set_bytes(state, device, 2.0 * 4 * n * cout * side * side);
  });
}

}  // namespace

int main(int argc, char** argv) {
  for (const Device device : bench::devices()) {
    register_overhead(device);
    register_elementwise(device);
    register_matmul(device);
    register_copies(device);
    register_indexing(device);
    register_spatial(device);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}

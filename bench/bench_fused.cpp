// Each fused kernel against the unfused composition it replaces, on every device: bandwidth
// (GB/s, the bytes the fused kernel must move) and its fraction of measured copy bandwidth. The
// fused kernels are called through their dispatch tables, so the rows time the kernel alone.
#include "bench_util.h"

#include "kernels/dispatch.h"  // the fused kernels, called directly

// White-box: the fused kernels are timed / checked through the dispatch tables directly.
using namespace nudge::kernels;  // NOLINT(google-build-using-namespace)

namespace {

using namespace nudge;
using bench::add;

struct Size {
  std::int64_t rows, cols;
  std::string str() const { return std::to_string(rows) + "x" + std::to_string(cols); }
};

std::vector<Size> sizes() {
  if (bench::quick()) return {{1024, 64}};
  return {{1024, 256}, {65536, 256}, {262144, 256}};  // the last is 256 MiB of float32
}

void register_dense_epilogues(Device device) {
  const std::string dev = bench::tag(device);
  for (const Size s : sizes()) {
    const bool flush = s.rows * s.cols >= (1 << 22);
    const double n = double(s.rows) * double(s.cols);
    // Forward epilogue: y = sigmoid(z + b), in place.
    add("fused/bias_sigmoid/" + s.str() + "/" + dev + "/fused", [=](benchmark::State& state) {
      Tensor z = randn({s.rows, s.cols}, device), b = randn({s.cols}, device);
      const BiasActivationCall call{kFloat32, Activation::Sigmoid, s.rows, s.cols, z.data_ptr(), b.data_ptr()};
      const auto kernel = dispatch::bias_activation.get(device, "bench");
      bench::run_timed(
          state, device, [&] { kernel(device.index(), call); }, flush);
      bench::set_bytes(state, device, 2 * 4 * n);
    });
    add("fused/bias_sigmoid/" + s.str() + "/" + dev + "/unfused", [=](benchmark::State& state) {
      const Tensor z = randn({s.rows, s.cols}, device), b = randn({s.cols}, device);
      Tensor y;
      bench::run_timed(
          state, device, [&] { y = sigmoid(z + b); }, flush);
      bench::set_bytes(state, device, 2 * 4 * n);
    });
    // Backward prologue: dz = dy * y(1-y) and the bias gradient (column sums).
    add("fused/sigmoid_backward_bias/" + s.str() + "/" + dev + "/fused", [=](benchmark::State& state) {
      const Tensor dy = randn({s.rows, s.cols}, device), y = rand({s.rows, s.cols}, device);
      Tensor dz = empty({s.rows, s.cols}, device), db = empty({s.cols}, device);
      const ActivationBackwardCall call{kFloat32,      Activation::Sigmoid, s.rows,        s.cols,
                                        dy.data_ptr(), y.data_ptr(),        dz.data_ptr(), db.data_ptr()};
      const auto kernel = dispatch::activation_backward.get(device, "bench");
      bench::run_timed(
          state, device, [&] { kernel(device.index(), call); }, flush);
      bench::set_bytes(state, device, 3 * 4 * n);
    });
    add("fused/sigmoid_backward_bias/" + s.str() + "/" + dev + "/unfused", [=](benchmark::State& state) {
      const Tensor dy = randn({s.rows, s.cols}, device), y = rand({s.rows, s.cols}, device);
      Tensor dz, db;
      bench::run_timed(
          state, device,
          [&] {
            dz = dy * (y * (1 - y));
            db = sum(dz, 0);
          },
          flush);
      bench::set_bytes(state, device, 3 * 4 * n);
    });
  }
}

/// The fused softmax cross-entropy kernel (loss and gradient) over [rows, cols] logits.
void add_fused_cross_entropy(Device device, Size s, bool flush) {
  add("fused/cross_entropy_grad/" + s.str() + "/" + bench::tag(device) + "/fused", [=](benchmark::State& state) {
    const Tensor x = randn({s.rows, s.cols}, device);
    const Tensor labels = zeros({s.rows}, TensorOptions(kInt64).device(device));
    Tensor loss = empty({}, device), grad = empty({s.rows, s.cols}, device);
    const LossCall call{LossKind::CrossEntropy, kFloat32,          Reduction::Mean, s.rows,         s.cols,
                        x.data_ptr(),           labels.data_ptr(), loss.data_ptr(), grad.data_ptr()};
    const auto kernel = dispatch::loss.get(device, "bench");
    bench::run_timed(
        state, device, [&] { kernel(device.index(), call); }, flush);
    bench::set_bytes(state, device, 2.0 * 4 * s.rows * s.cols);
  });
}

/// The shapes the third reading of the CUDA code named: an activation's backward without a bias
/// gradient (a 1-D elementwise pass) against `x * y` (the same bytes moved), the column sums of a
/// narrow matrix, and cross-entropy over an LM head's 50,257 classes and over 2 classes.
void register_third_reading_shapes(Device device) {
  const std::string dev = bench::tag(device);
  const std::int64_t n = bench::quick() ? (1 << 16) : (1 << 24);
  const std::string ns = std::to_string(n);
  add("fused/relu_backward_nobias/n" + ns + "/" + dev + "/fused", [=](benchmark::State& state) {
    const Tensor dy = randn({n}, device), y = rand({n}, device);
    Tensor dz = empty({n}, device);
    const ActivationBackwardCall call{kFloat32, Activation::ReLU, 1, n, dy.data_ptr(), y.data_ptr(), dz.data_ptr()};
    const auto kernel = dispatch::activation_backward.get(device, "bench");
    bench::run_timed(
        state, device, [&] { kernel(device.index(), call); }, true);
    bench::set_bytes(state, device, 3.0 * 4 * n);
  });
  add("fused/relu_backward_nobias/n" + ns + "/" + dev + "/x_times_y", [=](benchmark::State& state) {
    const Tensor x = randn({n}, device), y = randn({n}, device);
    Tensor z;
    bench::run_timed(
        state, device, [&] { z = x * y; }, true);
    bench::set_bytes(state, device, 3.0 * 4 * n);
  });
  const std::int64_t rows = bench::quick() ? 4096 : (1 << 22);
  add("op/sum_dim0/" + std::to_string(rows) + "x4/" + dev, [=](benchmark::State& state) {
    const Tensor x = randn({rows, 4}, device);
    Tensor s;
    bench::run_timed(
        state, device, [&] { s = sum(x, 0); }, true);
    bench::set_bytes(state, device, 4.0 * 4 * rows);
  });
  for (const Size s : bench::quick() ? std::vector<Size>{{8, 50257}} : std::vector<Size>{{8, 50257}, {1 << 20, 2}})
    add_fused_cross_entropy(device, s, false);
}

void register_losses(Device device) {
  const std::string dev = bench::tag(device);
  for (const Size s : sizes()) {
    const bool flush = s.rows * s.cols >= (1 << 22);
    const double n = double(s.rows) * double(s.cols);
    // MSE: loss and gradient (fused: one kernel; unfused: the composition's forward + backward).
    add("fused/mse_loss_grad/" + s.str() + "/" + dev + "/fused", [=](benchmark::State& state) {
      const Tensor x = randn({s.rows, s.cols}, device), t = randn({s.rows, s.cols}, device);
      Tensor loss = empty({}, device), grad = empty({s.rows, s.cols}, device);
      const LossCall call{LossKind::MSE, kFloat32,        Reduction::Mean, 1, s.rows * s.cols, x.data_ptr(),
                          t.data_ptr(),  loss.data_ptr(), grad.data_ptr()};
      const auto kernel = dispatch::loss.get(device, "bench");
      bench::run_timed(
          state, device, [&] { kernel(device.index(), call); }, flush);
      bench::set_bytes(state, device, 3 * 4 * n);
    });
    add("fused/mse_loss_grad/" + s.str() + "/" + dev + "/unfused", [=](benchmark::State& state) {
      Tensor x = randn({s.rows, s.cols}, device).requires_grad_();
      const Tensor t = randn({s.rows, s.cols}, device);
      bench::run_timed(
          state, device,
          [&] {
            x.set_grad({});
            const Tensor d = x - t;
            mean(d * d).backward();
          },
          flush);
      bench::set_bytes(state, device, 3 * 4 * n);
    });
    // Softmax cross-entropy over `cols` classes with the gradient.
    add_fused_cross_entropy(device, s, flush);
    add("fused/cross_entropy_grad/" + s.str() + "/" + dev + "/unfused", [=](benchmark::State& state) {
      Tensor x = randn({s.rows, s.cols}, device).requires_grad_();
      const Tensor picked = one_hot(zeros({s.rows}, TensorOptions(kInt64).device(device)), s.cols);
      bench::run_timed(
          state, device,
          [&] {
            x.set_grad({});
            mean(-sum(picked * log_softmax(x, 1), 1)).backward();
          },
          flush);
      bench::set_bytes(state, device, 2 * 4 * n);
    });
  }
}

/// SGD with momentum over the parameters of the medium MLP (784-256-128-10): one multi-tensor
/// launch against one chain of ops per parameter.
void register_optimizer(Device device) {
  const std::string dev = bench::tag(device);
  const std::vector<Shape> shapes = {{256, 784}, {256}, {128, 256}, {128}, {10, 128}, {10}};
  double numel = 0;
  for (const Shape& s : shapes) numel += double(numel_of(s));
  auto make = [=] {
    std::vector<Tensor> params;
    for (const Shape& s : shapes) {
      Tensor p = randn(s, device).requires_grad_();
      p.set_grad(randn(s, device));
      params.push_back(p);
    }
    return params;
  };
  add("fused/sgd_momentum_step/mlp_784-256-128-10/" + dev + "/fused", [=](benchmark::State& state) {
    std::vector<Tensor> params = make();
    optim::SGD sgd(params, {.lr = 0.01, .momentum = 0.9});
    sgd.step();
    bench::run_timed(state, device, [&] { sgd.step(); });
    bench::set_bytes(state, device, 5 * 4 * numel);  // read p, g, buf; write p, buf
  });
  add("fused/sgd_momentum_step/mlp_784-256-128-10/" + dev + "/unfused", [=](benchmark::State& state) {
    std::vector<Tensor> params = make();
    std::vector<Tensor> buffers;
    for (const Tensor& p : params) buffers.push_back(p.grad().clone());
    NoGradGuard no_grad;
    bench::run_timed(state, device, [&] {
      for (std::size_t i = 0; i < params.size(); ++i) {
        buffers[i].mul_(0.9).add_(params[i].grad());
        params[i].sub_(buffers[i] * 0.01);
      }
    });
    bench::set_bytes(state, device, 5 * 4 * numel);
  });
}

}  // namespace

int main(int argc, char** argv) {
  for (const Device device : bench::devices()) {
    register_dense_epilogues(device);
    register_losses(device);
    register_third_reading_shapes(device);
    register_optimizer(device);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}

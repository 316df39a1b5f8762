// Run by footprint_test: trains a little on the CPU and says whether the CUDA runtime or cuBLAS
// is mapped into this process, before and after the first question about CUDA. A CUDA build loads
// its CUDA backend (and with it those libraries) only on first CUDA use.
#include <cstdio>
#include <string>

#include <nudge/nudge.h>

#include "footprint/process_maps.h"

namespace {

using nudge::testing::mapped;

void report(const char* when) {
  std::printf("%s: cudart=%d cublas=%d backend=%d\n", when, mapped("libcudart") ? 1 : 0, mapped("libcublas") ? 1 : 0,
              mapped("libnudge_cuda") ? 1 : 0);
}

}  // namespace

/// --second-gpu-only: work on cuda:1 alone (ops, a reduction read back, a pinned upload, an event,
/// frees), then whether each GPU has a primary context: GPU 0 must have none (issue H1).
int second_gpu_only() {
  using namespace nudge;
  if (cuda::device_count() < 2) {
    std::printf("needs two GPUs\n");
    return 2;
  }
  const Device gpu1 = Device::cuda(1);
  {
    const Tensor a = randn({256, 256}).to(gpu1), b = ones({256, 256}, TensorOptions().device(gpu1));
    const Tensor pinned = ones({1024}).pin_memory();
    const Tensor uploaded = pinned.to(gpu1, /*non_blocking=*/true);
    cuda::Event done;
    done.record(1);
    done.synchronize();
    std::printf("sum=%g uploaded=%g\n", sum(matmul(a, b)).item<double>() * 0, sum(uploaded).item<double>());
  }
  std::printf("gpu0_context=%d gpu1_context=%d\n", cuda::has_primary_context(0) ? 1 : 0,
              cuda::has_primary_context(1) ? 1 : 0);
  return 0;
}

int main(int argc, char** argv) {
  using namespace nudge;
  if (argc > 1 && std::string(argv[1]) == "--second-gpu-only") return second_gpu_only();
  nn::Linear layer(2, 1, nn::Activation::Sigmoid);
  optim::SGD sgd(layer.parameters(), {.lr = 0.5});
  const Tensor x = tensor({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2}), y = tensor({0, 0, 0, 1}, {4, 1});
  for (int i = 0; i < 10; ++i) {
    sgd.zero_grad();
    nn::mse_loss(layer(x), y).backward();
    sgd.step();
  }
  report("cpu work");
  const bool available = cuda::is_available();
  report("asked about cuda");
  std::printf("available=%d reason=%s\n", available ? 1 : 0, cuda::unavailable_reason().c_str());
  return 0;
}

// Run by footprint_test: trains a little on the CPU and says whether the CUDA runtime or cuBLAS
// is mapped into this process, before and after the first question about CUDA. A CUDA build loads
// its CUDA backend (and with it those libraries) only on first CUDA use.
#include <cstdio>
#include <fstream>
#include <string>

#include <nudge/nudge.h>

namespace {

/// True when a library whose file name contains `name` is mapped into this process.
bool mapped(const std::string& name) {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);)
    if (line.find(name) != std::string::npos) return true;
  return false;
}

void report(const char* when) {
  std::printf("%s: cudart=%d cublas=%d backend=%d\n", when, mapped("libcudart") ? 1 : 0, mapped("libcublas") ? 1 : 0,
              mapped("libnudge_cuda") ? 1 : 0);
}

}  // namespace

int main() {
  using namespace nudge;
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

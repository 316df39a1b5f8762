// The first thing to run: a matmul + sigmoid on the CPU and, when there is one, on the GPU,
// from the same seeded inputs, with both results and their largest difference.
#include <cstdio>
#include <iostream>

#include <nudge/nudge.h>

namespace {

nudge::Tensor forward(const nudge::Tensor& x, const nudge::Tensor& w, const nudge::Tensor& b) {
  return nudge::sigmoid(nudge::matmul(x, w) + b);
}

}  // namespace

int main() try {
  nudge::Generator gen(42);
  const nudge::Tensor x = nudge::randn({4, 3}, gen);
  const nudge::Tensor w = nudge::randn({3, 2}, gen);
  const nudge::Tensor b = nudge::randn({2}, gen);

  std::cout << "x =\n" << x << "\n\nw =\n" << w << "\n\nb =\n" << b << "\n\n";
  const nudge::Tensor y_cpu = forward(x, w, b);
  std::cout << "sigmoid(x @ w + b) on cpu =\n" << y_cpu << "\n\n";

  if (!nudge::cuda::is_available()) {
    std::cout << "CUDA: not used (" << nudge::cuda::unavailable_reason() << ")\n";
    return 0;
  }
  const nudge::Device gpu = nudge::Device::cuda(0);
  const nudge::Tensor y_gpu = forward(x.to(gpu), w.to(gpu), b.to(gpu));
  std::cout << "sigmoid(x @ w + b) on " << gpu << " =\n" << y_gpu << "\n\n";
  const double max_diff = nudge::max(nudge::abs(y_gpu.cpu() - y_cpu)).item<double>();
  std::printf("max |cpu - cuda| = %.3g\n", max_diff);
  return 0;
} catch (const nudge::Error& e) {
  std::cerr << "demo failed: " << e.what() << "\n";
  return 1;
}

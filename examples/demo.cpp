// The first thing to run: a matmul + sigmoid on the CPU and, when there is one, on the GPU,
// from the same seeded inputs, with both results and their largest difference.
#include <cstdio>
#include <iostream>

#include "example_util.h"

namespace {

nudge::Tensor forward(const nudge::Tensor& x, const nudge::Tensor& w, const nudge::Tensor& b) {
  return nudge::sigmoid(nudge::matmul(x, w) + b);
}

}  // namespace

int main(int argc, char** argv) try {
  CLI::App app("nudge's first run: sigmoid(x @ w + b) on the CPU and on a GPU, compared");
  std::string device_spec = "auto";
  app.add_option("--device", device_spec,
                 "the device to compare with the CPU: cuda or cuda:N (default: cuda:0 when present; cpu: CPU only)");
  CLI11_PARSE(app, argc, argv);
  const nudge::Device device = examples::resolve_device(device_spec);  // a bad name is an error here

  nudge::Generator gen(42);
  const nudge::Tensor x = nudge::randn({4, 3}, gen);
  const nudge::Tensor w = nudge::randn({3, 2}, gen);
  const nudge::Tensor b = nudge::randn({2}, gen);

  std::cout << "x =\n" << x << "\n\nw =\n" << w << "\n\nb =\n" << b << "\n\n";
  const nudge::Tensor y_cpu = forward(x, w, b);
  std::cout << "sigmoid(x @ w + b) on cpu =\n" << y_cpu << "\n\n";

  if (device.is_cpu()) {
    if (device_spec == "auto") std::cout << "CUDA: not used (" << nudge::cuda::unavailable_reason() << ")\n";
    return 0;
  }
  const nudge::Tensor y_gpu = forward(x.to(device), w.to(device), b.to(device));
  std::cout << "sigmoid(x @ w + b) on " << device << " =\n" << y_gpu << "\n\n";
  const double max_diff = nudge::max(nudge::abs(y_gpu.cpu() - y_cpu)).item<double>();
  std::printf("max |cpu - cuda| = %.3g\n", max_diff);
  return 0;
} catch (const std::exception& e) {
  return examples::fail(e);
}

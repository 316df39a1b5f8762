// The nudge side of the PyTorch checkpoint exchange; tests/interop/torch_interop.sh runs these
// between its Python steps (they skip when run on their own).
#include <cstdlib>

#include "test_util.h"

namespace nudge::testing {
namespace {

/// The directory the interop script shares with Python, or "" when not run by it.
std::string interop_dir() {
  const char* dir = std::getenv("NUDGE_INTEROP_DIR");
  return dir ? dir : "";
}

nn::Sequential mlp() { return nn::Sequential(nn::Linear(4, 8), nn::ReLU(), nn::Linear(8, 3)); }

TEST(Interop, ExportForTorch) {
  const std::string dir = interop_dir();
  if (dir.empty()) GTEST_SKIP() << "run by tests/interop/torch_interop.sh (ctest: interop.pytorch_safetensors)";
  manual_seed(3);
  nn::Sequential model = mlp();
  const Tensor x = randn({5, 4});
  NoGradGuard no_grad;
  save(model, dir + "/model.safetensors");
  save({{"input", x}, {"output", model(x)}}, dir + "/io.safetensors");
}

TEST(Interop, ImportFromTorch) {
  const std::string dir = interop_dir();
  if (dir.empty()) GTEST_SKIP() << "run by tests/interop/torch_interop.sh (ctest: interop.pytorch_safetensors)";
  manual_seed(0);
  nn::Sequential model = mlp();
  load(model, dir + "/torch_model.safetensors");
  const serialization::NamedTensors io = load(dir + "/torch_io.safetensors");
  Tensor input, output;
  for (const auto& [name, t] : io) (name == "input" ? input : output) = t;
  NoGradGuard no_grad;
  EXPECT_TRUE(all_close(model(input), output, 1e-5, 1e-5));
  for (const Device d : test_devices()) {
    if (d.is_cuda() && !cuda::is_available()) continue;
    nn::Sequential on_device = mlp();
    on_device.to(d);
    load(on_device, dir + "/torch_model.safetensors");
    EXPECT_TRUE(all_close(on_device(input.to(d)).cpu(), output, 1e-5, 1e-5)) << d;
  }
}

}  // namespace
}  // namespace nudge::testing

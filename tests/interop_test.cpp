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
  const Tensor y = model(x);
  save({{"input", x}, {"output", y}, {"positive", y > 0}}, dir + "/io.safetensors");
}

TEST(Interop, ImportFromTorch) {
  const std::string dir = interop_dir();
  if (dir.empty()) GTEST_SKIP() << "run by tests/interop/torch_interop.sh (ctest: interop.pytorch_safetensors)";
  manual_seed(0);
  nn::Sequential model = mlp();
  load(model, dir + "/torch_model.safetensors");
  const serialization::NamedTensors io = load(dir + "/torch_io.safetensors");
  Tensor input, output, positive;
  for (const auto& [name, t] : io) (name == "input" ? input : name == "output" ? output : positive) = t;
  NoGradGuard no_grad;
  EXPECT_TRUE(all_close(model(input), output, 1e-5, 1e-5));
  // PyTorch's torch.bool mask arrives as a bool tensor with the same values.
  ASSERT_TRUE(positive.defined());
  EXPECT_EQ(positive.dtype(), kBool);
  EXPECT_TRUE(all(positive == (output > 0)).item<bool>());
  for (const Device d : test_devices()) {
    if (d.is_cuda() && !cuda::is_available()) {
      if (cuda_required()) ADD_FAILURE() << "CUDA required: " << cuda::unavailable_reason();
      continue;
    }
    nn::Sequential on_device = mlp();
    on_device.to(d);
    load(on_device, dir + "/torch_model.safetensors");
    EXPECT_TRUE(all_close(on_device(input.to(d)).cpu(), output, 1e-5, 1e-5)) << d;
  }
}

/// The tensors torch_interop.py's `layers` step wrote, by name.
class TorchLayers {
 public:
  explicit TorchLayers(const std::string& path) : tensors_(load(path)) {}
  Tensor operator()(const std::string& name) const {
    for (const auto& [n, t] : tensors_)
      if (n == name) return t;
    ADD_FAILURE() << "no tensor " << name << " in the PyTorch file";
    return {};
  }
  /// The "<layer>.<prefix>.*" entries, prefix removed: a state dict.
  nn::StateDict with_prefix(const std::string& prefix) const {
    nn::StateDict out;
    for (const auto& [n, t] : tensors_)
      if (n.rfind(prefix, 0) == 0) out.emplace_back(n.substr(prefix.size()), t);
    return out;
  }

 private:
  serialization::NamedTensors tensors_;
};

/// Loads PyTorch's weights into `layer`, runs the training-step forward and backward on `device`,
/// and compares output, gradients and buffers (and the eval output where PyTorch wrote one).
void expect_layer_matches(nn::Module& layer, const TorchLayers& torch_side, const std::string& name, Device device,
                          bool training = true) {
  SCOPED_TRACE(name + " on " + device.str());
  constexpr double kTol = 1e-6;
  layer.to(kFloat64);
  layer.load_state_dict(torch_side.with_prefix(name + ".state."));
  layer.to(device);
  layer.train(training);
  Tensor x = torch_side(name + ".input").to(device);
  if (is_floating(x.dtype())) x.requires_grad_();
  const Tensor y = layer(x);
  EXPECT_TRUE(all_close(y.cpu(), torch_side(name + ".output"), kTol, kTol));
  y.backward(torch_side(name + ".upstream").to(device));
  if (is_floating(x.dtype())) {
    EXPECT_TRUE(all_close(x.grad().cpu(), torch_side(name + ".grad_input"), kTol, kTol));
  }
  for (const auto& [param, grad] : torch_side.with_prefix(name + ".grad.")) {
    for (const auto& [own, p] : layer.named_parameters())
      if (own == param) {
        EXPECT_TRUE(all_close(p.grad().cpu(), grad, kTol, kTol)) << "gradient of " << param;
      }
  }
  for (const auto& [buffer, value] : torch_side.with_prefix(name + ".after.")) {
    for (const auto& [own, b] : layer.named_buffers())
      if (own == buffer) {
        EXPECT_TRUE(all_close(b.cpu().to(value.dtype()), value, kTol, kTol)) << "buffer " << buffer;
      }
  }
  for (const auto& [key, eval_input] : torch_side.with_prefix(name + ".eval_input")) {
    (void)key;
    layer.eval();
    NoGradGuard no_grad;
    EXPECT_TRUE(all_close(layer(eval_input.to(device)).cpu(), torch_side(name + ".eval_output"), kTol, kTol));
  }
}

TEST(Interop, LayersMatchPyTorch) {
  const std::string dir = interop_dir();
  if (dir.empty()) GTEST_SKIP() << "run by tests/interop/torch_interop.sh (ctest: interop.pytorch_safetensors)";
  const TorchLayers torch_side(dir + "/torch_layers.safetensors");
  for (const Device d : test_devices()) {
    if (d.is_cuda() && !cuda::is_available()) {
      if (cuda_required()) ADD_FAILURE() << "CUDA required: " << cuda::unavailable_reason();
      continue;
    }
    nn::LayerNorm layer_norm({3, 4});
    expect_layer_matches(layer_norm, torch_side, "layernorm", d);
    nn::BatchNorm1d batch_norm(4);
    expect_layer_matches(batch_norm, torch_side, "batchnorm", d);
    nn::BatchNorm1d cumulative(3, {.momentum = std::nullopt});
    expect_layer_matches(cumulative, torch_side, "batchnorm_seq", d);
    nn::Embedding embedding(10, 3, /*padding_idx=*/0);
    expect_layer_matches(embedding, torch_side, "embedding", d);
    nn::Sequential mlp(nn::Linear(4, 8), nn::LayerNorm({8}), nn::GELU(), nn::Dropout(0.3), nn::Linear(8, 2));
    expect_layer_matches(mlp, torch_side, "mlp", d, /*training=*/false);
  }
}

}  // namespace
}  // namespace nudge::testing

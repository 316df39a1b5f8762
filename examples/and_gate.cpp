// A single sigmoid neuron learns AND: w = [0.1, −0.2], b = 0, loss ½(p − t)², lr 0.5,
// 5000 epochs, one update per example in the order (0,0), (0,1), (1,0), (1,1);
// --batch updates once per epoch on all four rows.
#include "example_util.h"

int main(int argc, char** argv) try {
  CLI::App app("a sigmoid neuron learning AND");
  examples::CommonOptions common;
  examples::add_common_options(app, common);
  int epochs = 5000;
  bool batch = false;
  app.add_option("--epochs", epochs, "training epochs")->check(examples::integer_at_least(1));
  app.add_flag("--batch", batch, "train on all four rows at once instead of one at a time");
  CLI11_PARSE(app, argc, argv);

  const nudge::Device device = examples::check_common_options(common);
  const auto opts = nudge::TensorOptions(nudge::kFloat32).device(device);
  const nudge::Tensor inputs = nudge::tensor({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2}, opts);
  const nudge::Tensor targets = nudge::tensor({0, 0, 0, 1}, {4, 1}, opts);
  nudge::Tensor w = nudge::tensor({0.1, -0.2}, {2, 1}, opts).requires_grad_();
  nudge::Tensor b = nudge::zeros({1}, opts).requires_grad_();
  nudge::optim::SGD sgd({w, b}, {.lr = 0.5});
  auto forward = [&](const nudge::Tensor& x) { return nudge::sigmoid(nudge::matmul(x, w) + b); };
  examples::LossHistory history(common);

  std::printf("device: %s, %s updates\n%6s %12s\n", device.str().c_str(), batch ? "full-batch" : "per-example", "epoch",
              "loss");
  double epoch_loss = 0;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    nudge::Tensor total = nudge::zeros({}, opts);  // summed on the device: one sync per epoch
    for (int row = 0; row < (batch ? 1 : 4); ++row) {
      const nudge::Tensor x = batch ? inputs : inputs.narrow(0, row, 1);
      const nudge::Tensor t = batch ? targets : targets.narrow(0, row, 1);
      sgd.zero_grad();
      const nudge::Tensor p = forward(x);
      const nudge::Tensor loss = nudge::mean((p - t) * (p - t)) * 0.5;
      loss.backward();
      sgd.step();
      total = total + loss.detach();
    }
    epoch_loss = total.item<double>() / (batch ? 1 : 4);
    examples::require_finite_loss(epoch_loss, epoch);
    history.add(epoch, epoch_loss);
    if (epoch % 1000 == 0) std::printf("%6d %12.6f\n", epoch, epoch_loss);
  }

  const nudge::Tensor predictions = [&] {
    nudge::NoGradGuard no_grad;
    return forward(inputs).cpu();
  }();
  const auto p = predictions.to_vector<double>();
  std::printf("\n x1 x2 | target | prediction\n");
  for (int row = 0; row < 4; ++row)
    std::printf("  %d  %d |   %d    |   %.3f\n", row / 2, row % 2, row == 3 ? 1 : 0, p[row]);
  const auto wv = w.to_vector<double>();
  std::printf("learned w = [%.4f, %.4f], b = %.4f\n", wv[0], wv[1], b.item<double>());
  history.finish("AND gate");
  examples::print_final({{"w0", wv[0]},
                         {"w1", wv[1]},
                         {"b", b.item<double>()},
                         {"p00", p[0]},
                         {"p01", p[1]},
                         {"p10", p[2]},
                         {"p11", p[3]},
                         {"loss", epoch_loss}});
  return 0;
} catch (const std::exception& e) {
  return examples::fail(e);
}

// One weight, no bias: output = w·x with x = 1.5, target 1.0, from w = 0.3, squared error,
// SGD at lr 0.1 for 20 epochs. The ideal weight is 1/1.5.
#include "example_util.h"

int main(int argc, char** argv) try {
  CLI::App app("one neuron learning w = 1/1.5");
  examples::CommonOptions common;
  examples::add_common_options(app, common);
  int epochs = 20;
  app.add_option("--epochs", epochs, "training epochs")->check(examples::integer_at_least(1));
  CLI11_PARSE(app, argc, argv);

  const nudge::Device device = examples::check_common_options(common);
  const auto opts = nudge::TensorOptions(nudge::kFloat64).device(device);
  nudge::Tensor w = nudge::full({}, 0.3, opts).requires_grad_();
  const double x = 1.5, target = 1.0;
  nudge::optim::SGD sgd({w}, {.lr = 0.1});
  examples::LossHistory history(common);

  std::printf("device: %s\n%6s %10s %10s %12s\n", device.str().c_str(), "epoch", "w", "output", "loss");
  double loss_value = 0;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    sgd.zero_grad();
    const nudge::Tensor output = w * x;
    const nudge::Tensor loss = (output - target) * (output - target);
    loss.backward();
    sgd.step();
    loss_value = loss.item<double>();
    examples::require_finite_loss(loss_value, epoch, "epoch");
    history.add(epoch, loss_value);
    if (epoch % 5 == 0)
      std::printf("%6d %10.6f %10.6f %12.8f\n", epoch, w.item<double>(), w.item<double>() * x, loss_value);
  }
  std::printf("learned w = %.6f, ideal 1/1.5 = %.6f\n", w.item<double>(), 1 / 1.5);
  history.finish("one neuron");
  examples::print_final({{"w", w.item<double>()}, {"loss", loss_value}});
  return 0;
} catch (const std::exception& e) {
  return examples::fail(e);
}

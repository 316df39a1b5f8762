// y = a·x + b fitted to one point (x = 1, y = 4) from a = 3, b = 4 with squared error and
// SGD at lr 0.1: the first steps of gradient descent, every number printed.
#include "example_util.h"

int main(int argc, char** argv) try {
  CLI::App app("two-parameter gradient descent");
  examples::CommonOptions common;
  examples::add_common_options(app, common);
  int steps = 5;
  app.add_option("--steps", steps, "last step to print")->check(examples::integer_at_least(1));
  CLI11_PARSE(app, argc, argv);

  const nudge::Device device = examples::check_common_options(common);
  const auto opts = nudge::TensorOptions(nudge::kFloat64).device(device);
  nudge::Tensor a = nudge::full({}, 3.0, opts).requires_grad_();
  nudge::Tensor b = nudge::full({}, 4.0, opts).requires_grad_();
  const double x = 1.0, y_true = 4.0;
  nudge::optim::SGD sgd({a, b}, {.lr = 0.1});
  examples::LossHistory history(common, "step");

  std::printf("device: %s\n", device.str().c_str());
  std::printf("%4s %8s %8s %8s %8s %8s %8s %8s\n", "step", "a", "b", "y_pred", "error", "dL/da", "dL/db", "loss");
  double loss_value = 0;
  for (int step = 0; step <= steps; ++step) {
    sgd.zero_grad();
    const nudge::Tensor y_pred = a * x + b;
    const nudge::Tensor error = y_pred - y_true;
    const nudge::Tensor loss = error * error;
    loss.backward();
    loss_value = loss.item<double>();
    examples::require_finite_loss(loss_value, step, "step");
    std::printf("%4d %8.4f %8.4f %8.4f %8.4f %8.4f %8.4f %8.4f\n", step, a.item<double>(), b.item<double>(),
                y_pred.item<double>(), error.item<double>(), a.grad().item<double>(), b.grad().item<double>(),
                loss_value);
    history.add(step, loss_value);
    sgd.step();
  }
  history.finish("two-parameter line");
  examples::print_final({{"a", a.item<double>()}, {"b", b.item<double>()}, {"loss", loss_value}});
  return 0;
} catch (const std::exception& e) {
  return examples::fail(e);
}

// A sigmoid neuron on four points: [0.2,0.8]→1, [0.9,0.1]→0, [0.5,0.5]→1, [0.1,0.3]→0, from
// w = [0.5, −0.3], b = 0.1; full-batch MSE, lr 0.3, 3000 epochs; optional momentum / Nesterov.
#include "example_util.h"

int main(int argc, char** argv) try {
  CLI::App app("a sigmoid neuron, full-batch MSE");
  examples::CommonOptions common;
  examples::add_common_options(app, common);
  int epochs = 3000;
  double momentum = 0.0;
  bool nesterov = false;
  app.add_option("--epochs", epochs, "training epochs")->check(examples::integer_at_least(1));
  app.add_option("--momentum", momentum, "SGD momentum")->check(examples::finite_at_least(0));
  app.add_flag("--nesterov", nesterov, "Nesterov momentum (needs --momentum > 0)");
  CLI11_PARSE(app, argc, argv);

  const nudge::Device device = examples::check_common_options(common);
  const auto opts = nudge::TensorOptions(nudge::kFloat32).device(device);
  const nudge::Tensor x = nudge::tensor({0.2, 0.8, 0.9, 0.1, 0.5, 0.5, 0.1, 0.3}, {4, 2}, opts);
  const nudge::Tensor y = nudge::tensor({1, 0, 1, 0}, {4, 1}, opts);
  nudge::Tensor w = nudge::tensor({0.5, -0.3}, {2, 1}, opts).requires_grad_();
  nudge::Tensor b = nudge::full({1}, 0.1, opts).requires_grad_();
  nudge::optim::SGD sgd({w, b}, {.lr = 0.3, .momentum = momentum, .nesterov = nesterov});
  nudge::nn::MSELoss mse;
  examples::LossHistory history(common);

  std::printf("device: %s, momentum %.2f%s\n%6s %12s\n", device.str().c_str(), momentum, nesterov ? " (Nesterov)" : "",
              "epoch", "loss");
  const double loss_value = examples::train_full_batch(sgd, epochs, 500, history,
                                                       [&] { return mse(nudge::sigmoid(nudge::matmul(x, w) + b), y); });
  nudge::NoGradGuard no_grad;
  const auto p = nudge::sigmoid(nudge::matmul(x, w) + b).to_vector<double>();
  const auto wv = w.to_vector<double>();
  std::printf("\nw = [%.4f, %.4f], b = %.4f\n   x1   x2 | target | prediction\n", wv[0], wv[1], b.item<double>());
  const double xs[4][2] = {{0.2, 0.8}, {0.9, 0.1}, {0.5, 0.5}, {0.1, 0.3}};
  for (int i = 0; i < 4; ++i) std::printf("  %.1f  %.1f |   %d    |   %.3f\n", xs[i][0], xs[i][1], i % 2 == 0, p[i]);
  history.finish("sigmoid neuron");
  examples::print_final({{"w0", wv[0]},
                         {"w1", wv[1]},
                         {"b", b.item<double>()},
                         {"p0", p[0]},
                         {"p1", p[1]},
                         {"p2", p[2]},
                         {"p3", p[3]},
                         {"loss", loss_value}});
  return 0;
} catch (const std::exception& e) {
  return examples::fail(e);
}

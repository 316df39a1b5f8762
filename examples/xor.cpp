// XOR, the classic problem a single neuron cannot solve: a 2-H-1 sigmoid MLP (H = 4 by
// default) from a seeded initialisation, full-batch MSE, SGD with momentum.
#include "example_util.h"

int main(int argc, char** argv) try {
  CLI::App app("a sigmoid MLP learning XOR");
  examples::CommonOptions common;
  examples::add_common_options(app, common);
  int epochs = 2000;
  int hidden = 4;
  std::uint64_t seed = 0;
  double lr = 1.0;
  app.add_option("--epochs", epochs, "training epochs")->check(examples::integer_at_least(1));
  app.add_option("--hidden", hidden, "hidden units (>= 2)")->check(examples::integer_at_least(2));
  app.add_option("--seed", seed, "initialisation seed")->check(examples::integer_at_least(0));
  app.add_option("--lr", lr, "learning rate")->check(examples::finite_at_least(0));
  CLI11_PARSE(app, argc, argv);

  const nudge::Device device = examples::check_common_options(common);
  nudge::manual_seed(seed);
  nudge::nn::Sequential model(nudge::nn::Linear(2, hidden, nudge::nn::Activation::Sigmoid),
                              nudge::nn::Linear(hidden, 1, nudge::nn::Activation::Sigmoid));
  model.to(device);
  const auto opts = nudge::TensorOptions(nudge::kFloat32).device(device);
  const nudge::Tensor x = nudge::tensor({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2}, opts);
  const nudge::Tensor y = nudge::tensor({0, 1, 1, 0}, {4, 1}, opts);
  nudge::optim::SGD sgd(model.parameters(), {.lr = lr, .momentum = 0.9});
  nudge::nn::MSELoss mse;
  examples::LossHistory history(common);

  std::printf("device: %s, 2-%d-1 sigmoid MLP, seed %llu\n%6s %12s\n", device.str().c_str(), hidden,
              static_cast<unsigned long long>(seed), "epoch", "loss");
  const double loss_value = examples::train_full_batch(sgd, epochs, 500, history, [&] { return mse(model(x), y); });
  nudge::NoGradGuard no_grad;
  const auto p = model(x).to_vector<double>();
  bool solved = true;
  std::printf("\n x1 x2 | target | prediction\n");
  for (int i = 0; i < 4; ++i) {
    const int target = (i == 1 || i == 2) ? 1 : 0;
    solved = solved && ((p[i] > 0.5) == (target == 1));
    std::printf("  %d  %d |   %d    |   %.3f\n", i / 2, i % 2, target, p[i]);
  }
  std::printf("%s\n", solved ? "XOR solved" : "XOR not solved");
  history.finish("XOR MLP");
  examples::print_final({{"solved", solved ? 1.0 : 0.0},
                         {"p00", p[0]},
                         {"p01", p[1]},
                         {"p10", p[2]},
                         {"p11", p[3]},
                         {"loss", loss_value}});
  return 0;
} catch (const std::exception& e) {
  return examples::fail(e);
}

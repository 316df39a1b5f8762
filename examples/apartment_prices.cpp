// Fitting price = slope·sqm + intercept to 20 synthetic apartments (price = 2500·sqm + 15000 +
// N(0, 12000²), sqm ~ U(30, 150), seeded) by full-batch gradient descent on MSE, from 0, 0.
//  (a) learning rates too small, right, and too large — and why: gradient descent on a quadratic
//      is stable exactly when lr < 2/λmax, λmax the largest eigenvalue of the loss's Hessian;
//  (b) early stopping;  (c) standardised sqm, which makes the Hessian round and the fit fast;
//  (d) train MAE against test MAE on 5 fresh apartments.
#include <cmath>
#include <optional>

#include "example_util.h"

namespace {

using nudge::Tensor;

struct Data {
  std::vector<double> sqm, price;
};

Data make_apartments(nudge::Generator& gen, int count) {
  Data d;
  for (int i = 0; i < count; ++i) {
    const double sqm = 30 + 120 * gen.uniform_double();
    d.sqm.push_back(sqm);
    d.price.push_back(2500 * sqm + 15000 + 12000 * gen.normal());
  }
  return d;
}

/// Largest eigenvalue of the Hessian of mean((s·x + c − y)²) in (s, c): (2/N)·[[Σx², Σx], [Σx, N]].
double hessian_lambda_max(const std::vector<double>& x) {
  const double n = static_cast<double>(x.size());
  double sxx = 0, sx = 0;
  for (double v : x) sxx += v * v, sx += v;
  const double a = 2 * sxx / n, b = 2 * sx / n, d = 2.0;
  return (a + d) / 2 + std::sqrt((a - d) * (a - d) / 4 + b * b);
}

struct Fit {
  double slope = 0, intercept = 0, loss = 0;
  int epochs = 0;
  std::optional<int> diverged_at, converged_at, stopped_at;
};

struct FitOptions {
  double lr;
  int epochs;
  double converged_rel_change = 0;  // stop once the loss changes by less than this fraction
  std::optional<nudge::optim::EarlyStopping> early_stopping;
};

Fit fit_line(const Tensor& x, const Tensor& y, FitOptions o) {
  const auto opts = nudge::TensorOptions(nudge::kFloat64).device(x.device());
  Tensor slope = nudge::zeros({}, opts).requires_grad_(), intercept = nudge::zeros({}, opts).requires_grad_();
  nudge::optim::SGD sgd({slope, intercept}, {.lr = o.lr});
  Fit f;
  double previous = INFINITY;
  for (f.epochs = 1; f.epochs <= o.epochs; ++f.epochs) {
    sgd.zero_grad();
    const Tensor loss = nudge::nn::mse_loss(x * slope + intercept, y);
    f.loss = loss.item<double>();
    if (!std::isfinite(f.loss) || f.loss > 1e20) {
      f.diverged_at = f.epochs;
      break;
    }
    loss.backward();
    sgd.step();
    if (o.early_stopping && o.early_stopping->step(f.loss)) {
      f.stopped_at = f.epochs;
      break;
    }
    if (o.converged_rel_change > 0 && std::fabs(previous - f.loss) <= o.converged_rel_change * f.loss) {
      f.converged_at = f.epochs;
      break;
    }
    previous = f.loss;
  }
  f.epochs = std::min(f.epochs, o.epochs);
  f.slope = slope.item<double>();
  f.intercept = intercept.item<double>();
  return f;
}

void print_fit(const char* label, double lr, const Fit& f) {
  std::printf("  %-10s lr = %.4e: ", label, lr);
  if (f.diverged_at) {
    std::printf("DIVERGED at epoch %d\n", *f.diverged_at);
    return;
  }
  std::printf("slope = %10.2f, intercept = %10.2f, loss = %.4e after %d epochs%s\n", f.slope, f.intercept, f.loss,
              f.epochs,
              f.converged_at ? " (converged)"
              : f.stopped_at ? " (early stop)"
                             : "");
}

double mae(const std::vector<double>& sqm, const std::vector<double>& price, double slope, double intercept) {
  double total = 0;
  for (std::size_t i = 0; i < sqm.size(); ++i) total += std::fabs(slope * sqm[i] + intercept - price[i]);
  return total / static_cast<double>(sqm.size());
}

}  // namespace

int main(int argc, char** argv) try {
  CLI::App app("apartment prices: learning rates, early stopping, standardisation");
  examples::CommonOptions common;
  examples::add_common_options(app, common);
  std::uint64_t seed = 7;
  int epochs = 3000;
  double check_rate = 0;
  app.add_option("--seed", seed, "data seed")->check(examples::integer_at_least(0));
  app.add_option("--epochs", epochs, "epochs per fit")->check(examples::integer_at_least(1));
  app.add_option("--check-rate", check_rate, "also fit at this multiple of 2/λmax and report whether it diverges");
  CLI11_PARSE(app, argc, argv);

  const nudge::Device device = examples::check_common_options(common);
  nudge::Generator gen(seed);
  const Data train = make_apartments(gen, 20), test = make_apartments(gen, 5);
  const auto opts = nudge::TensorOptions(nudge::kFloat64).device(device);
  const Tensor x = nudge::tensor(train.sqm, opts), y = nudge::tensor(train.price, opts);

  const double lambda_max = hessian_lambda_max(train.sqm), lr_max = 2 / lambda_max;
  std::printf("device: %s, 20 apartments, sqm in [30, 150)\n", device.str().c_str());
  std::printf("Hessian of the MSE: largest eigenvalue %.4e, so the largest stable rate is 2/λmax = %.6e\n\n",
              lambda_max, lr_max);

  std::printf("(a) learning rates on raw sqm, %d epochs each\n", epochs);
  const Fit small = fit_line(x, y, {.lr = lr_max * 1e-4, .epochs = epochs});
  const Fit good = fit_line(x, y, {.lr = lr_max * 0.5, .epochs = epochs});
  const Fit large = fit_line(x, y, {.lr = lr_max * 1.5, .epochs = epochs});
  print_fit("too small", lr_max * 1e-4, small);
  print_fit("good", lr_max * 0.5, good);
  print_fit("too large", lr_max * 1.5, large);
  std::printf(
      "  the intercept barely moves even at the good rate: the Hessian's smallest eigenvalue is tiny,\n"
      "  so that direction converges (1 − lr·λmin)ⁿ slowly.\n\n");

  std::optional<Fit> check;
  if (check_rate > 0) {
    check = fit_line(x, y, {.lr = lr_max * check_rate, .epochs = epochs});
    std::printf("(check) rate %.4f × 2/λmax: ", check_rate);
    print_fit("", lr_max * check_rate, *check);
    std::printf("\n");
  }

  std::printf("(b) early stopping (patience 10, min_delta 1e-3 of the first loss) at the good rate\n");
  const double first_loss = nudge::nn::mse_loss(x * 0.0, y).item<double>();
  FitOptions stopping{.lr = lr_max * 0.5, .epochs = epochs};
  stopping.early_stopping.emplace(10, 1e-3 * first_loss);
  const Fit stopped = fit_line(x, y, stopping);
  print_fit("early stop", lr_max * 0.5, stopped);
  std::printf("\n");

  std::printf("(c) standardised sqm z = (sqm − mean)/std: the Hessian becomes 2·I, 2/λmax = 1\n");
  double mean = 0, var = 0;
  for (double v : train.sqm) mean += v / 20;
  for (double v : train.sqm) var += (v - mean) * (v - mean) / 20;
  const double stddev = std::sqrt(var);
  const Tensor z = (x - mean) / stddev;
  const Fit raw = fit_line(x, y, {.lr = lr_max * 0.5, .epochs = epochs, .converged_rel_change = 1e-10});
  const Fit standard = fit_line(z, y, {.lr = 0.5, .epochs = epochs, .converged_rel_change = 1e-10});
  const double slope = standard.slope / stddev, intercept = standard.intercept - standard.slope * mean / stddev;
  std::printf("  raw sqm:          %s after %d epochs (loss %.4e)\n", raw.converged_at ? "converged" : "NOT converged",
              raw.epochs, raw.loss);
  std::printf("  standardised sqm: %s after %d epochs (loss %.4e)\n",
              standard.converged_at ? "converged" : "NOT converged", standard.epochs, standard.loss);
  std::printf("  in sqm units: price = %.2f·sqm + %.2f (truth: 2500·sqm + 15000)\n\n", slope, intercept);

  const double train_mae = mae(train.sqm, train.price, slope, intercept);
  const double test_mae = mae(test.sqm, test.price, slope, intercept);
  std::printf("(d) mean absolute error: train %.2f, test (5 fresh apartments) %.2f\n", train_mae, test_mae);

  examples::LossHistory history(common);
  history.add(standard.epochs, standard.loss);
  history.finish("apartment prices");
  std::vector<std::pair<std::string, double>> final = {{"slope", slope},
                                                       {"intercept", intercept},
                                                       {"lr_max", lr_max},
                                                       {"raw_epochs", raw.epochs},
                                                       {"standardised_epochs", standard.epochs},
                                                       {"large_diverged", large.diverged_at ? 1 : 0},
                                                       {"train_mae", train_mae},
                                                       {"test_mae", test_mae},
                                                       {"loss", standard.loss}};
  if (check) final.emplace_back("check_diverged", check->diverged_at ? 1 : 0);
  examples::print_final(final);
  return 0;
} catch (const std::exception& e) {
  return examples::fail(e);
}

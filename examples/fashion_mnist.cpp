// Fashion-MNIST: a 784-256-128-10 ReLU MLP, or with --model cnn a small convolutional network
// (two 5×5 convolutions with max-pooling, then 1568-128-10), trained with softmax cross-entropy
// (SGD with momentum or Adam) on Debian's dataset-fashion-mnist. Prints per-epoch train loss, test
// accuracy and time, then the confusion matrix. The data set's published baseline for an MLP
// (256-128-100) is 0.8833. Built twice: fashion_mnist (MLP defaults) and fashion_mnist_cnn (the
// same program with the CNN's defaults: FASHION_MNIST_CNN).
#include <chrono>
#include <filesystem>

#include "example_util.h"

namespace {

const std::vector<std::string> kClassNames = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

struct Options {
  std::string data = "/usr/share/datasets/fashion-mnist";
#ifdef FASHION_MNIST_CNN
  std::string model = "cnn";
  int epochs = 5;
  std::int64_t batch = 64;
  std::string optimizer = "adam";
  double lr = 2e-3;
#else
  std::string model = "mlp";
  int epochs = 15;
  std::int64_t batch = 128;
  std::string optimizer = "sgd";
  double lr = 0.05;
#endif
  double momentum = 0.9;
  std::vector<std::int64_t> hidden = {256, 128};  // from the --hidden text
  std::int64_t train_limit = 0, test_limit = 0;
  std::uint64_t seed = 0;
  std::string schedule = "cosine";
  double dropout = 0;      // after each hidden layer's activation
  bool layernorm = false;  // LayerNorm between each hidden Linear and its ReLU
  std::string save, resume;
};

/// The first `limit` examples (all when limit is 0 or too large).
nudge::data::TensorDataset first(const nudge::data::TensorDataset& set, std::int64_t limit) {
  if (limit <= 0 || limit >= set.size()) return set;
  const nudge::data::Batch part = set.slice(0, limit);
  return {part.input, part.target};
}

/// Accuracy of `model` on `set`, counted into `matrix`.
double evaluate(nudge::nn::Module& model, const nudge::data::TensorDataset& set, nudge::Device device,
                nudge::monitor::ConfusionMatrix& matrix) {
  nudge::NoGradGuard no_grad;
  model.eval();
  constexpr std::int64_t kChunk = 2000;
  for (std::int64_t start = 0; start < set.size(); start += kChunk) {
    const nudge::data::Batch part = set.slice(start, std::min(kChunk, set.size() - start));
    const nudge::Tensor predictions = nudge::argmax(model(part.input.to(device)), 1);
    matrix.add(predictions, part.target.to(device));
  }
  model.train();
  return matrix.accuracy();
}

std::unique_ptr<nudge::optim::Optimizer> make_optimizer(const Options& o, std::vector<nudge::Tensor> params) {
  if (o.optimizer == "sgd")
    return std::make_unique<nudge::optim::SGD>(params, nudge::optim::SGDOptions{.lr = o.lr, .momentum = o.momentum});
  if (o.optimizer == "adam") return std::make_unique<nudge::optim::Adam>(params, nudge::optim::AdamOptions{.lr = o.lr});
  throw nudge::Error("--optimizer must be sgd or adam, got " + o.optimizer);
}

/// The CNN: images [N, 1, 28, 28]; 5×5 convolutions to 16 and 32 channels (each fused with its
/// ReLU, "same" padding), each followed by 2×2 max-pooling; channel dropout with --dropout; then
/// the --hidden layers on the 32·7·7 features.
nudge::nn::Sequential build_cnn(const Options& o, std::string& architecture) {
  namespace nn = nudge::nn;
  nn::Sequential model(nn::Unflatten(1, {1, 28, 28}),
                       nn::Conv2d(1, 16, 5, {.padding = 2, .activation = nn::Activation::ReLU}), nn::MaxPool2d(2),
                       nn::Conv2d(16, 32, 5, {.padding = 2, .activation = nn::Activation::ReLU}), nn::MaxPool2d(2));
  if (o.dropout > 0) model.push_back(nn::Dropout2d(o.dropout));
  model.push_back(nn::Flatten());
  std::int64_t width = 32 * 7 * 7;
  architecture = "conv16-pool-conv32-pool";
  for (std::int64_t h : o.hidden) {
    model.push_back(nn::Linear(width, h, nn::Activation::ReLU));
    if (o.dropout > 0) model.push_back(nn::Dropout(o.dropout));
    width = h;
    architecture += "-" + std::to_string(h);
  }
  model.push_back(nn::Linear(width, 10));
  architecture += "-10";
  return model;
}

/// The MLP: for each hidden size Linear + ReLU (one fused op), or Linear, LayerNorm, ReLU with
/// --layernorm; Dropout after each with --dropout; then a Linear to the 10 classes.
nudge::nn::Sequential build_model(std::int64_t inputs, const Options& o, std::string& architecture) {
  namespace nn = nudge::nn;
  if (o.model == "cnn") return build_cnn(o, architecture);
  nn::Sequential model;
  std::int64_t width = inputs;
  architecture = std::to_string(width);
  for (std::int64_t h : o.hidden) {
    if (o.layernorm) {
      model.push_back(nn::Linear(width, h));
      model.push_back(nn::LayerNorm({h}));
      model.push_back(nn::ReLU());
    } else {
      model.push_back(nn::Linear(width, h, nn::Activation::ReLU));
    }
    if (o.dropout > 0) model.push_back(nn::Dropout(o.dropout));
    width = h;
    architecture += "-" + std::to_string(h);
  }
  model.push_back(nudge::nn::Linear(width, 10));
  architecture += "-10";
  return model;
}

/// One pass over the training data; returns the mean training loss. The running loss stays on
/// the device (no synchronisation per batch): the progress bar reads it only when it redraws.
double train_epoch(nudge::nn::Module& model, nudge::optim::Optimizer& optimizer, nudge::data::DataLoader& loader,
                   nudge::monitor::ProgressBar& bar, nudge::Device device) {
  nudge::nn::CrossEntropyLoss cross_entropy;
  nudge::Tensor loss_sum = nudge::zeros({}, nudge::TensorOptions(nudge::kFloat32).device(device));
  std::int64_t seen = 0, batch_index = 0;
  for (const nudge::data::Batch& batch : loader) {
    optimizer.zero_grad();
    const nudge::Tensor loss = cross_entropy(model(batch.input), batch.target);
    loss.backward();
    optimizer.step();
    const std::int64_t n = batch.input.size(0);
    {
      nudge::NoGradGuard no_grad;
      loss_sum.add_(loss.detach() * static_cast<double>(n));
    }
    seen += n;
    bar.update(++batch_index, n, [&] { return loss_sum.item<double>() / static_cast<double>(seen); });
  }
  return loss_sum.item<double>() / static_cast<double>(seen);
}

/// Loss and error-rate curves into an SVG.
void plot_curves(const std::string& path, const nudge::monitor::MetricsLog& metrics, const std::string& architecture) {
  const std::vector<double> epochs = metrics.column("epoch");
  std::vector<double> error = metrics.column("test_accuracy");
  for (double& e : error) e = 1 - e;
  nudge::monitor::write_svg_plot(path,
                                 {{"train loss", epochs, metrics.column("train_loss")}, {"test error", epochs, error}},
                                 {.title = "Fashion-MNIST " + architecture, .y_label = "loss / error rate"});
}

/// The settings a checkpoint records: resuming with a different value for any of them would not
/// continue the same run.
nudge::serialization::Metadata settings_of(const Options& o, const std::string& hidden) {
  char lr[32], momentum[32], dropout[32];
  std::snprintf(lr, sizeof lr, "%.17g", o.lr);
  std::snprintf(dropout, sizeof dropout, "%.17g", o.dropout);
  std::snprintf(momentum, sizeof momentum, "%.17g", o.momentum);
  return {{"model", o.model},
          {"epochs", std::to_string(o.epochs)},
          {"batch", std::to_string(o.batch)},
          {"optimizer", o.optimizer},
          {"lr", lr},
          {"momentum", momentum},
          {"hidden", hidden},
          {"train-limit", std::to_string(o.train_limit)},
          {"test-limit", std::to_string(o.test_limit)},
          {"schedule", o.schedule},
          {"seed", std::to_string(o.seed)},
          {"dropout", dropout},
          {"layernorm", o.layernorm ? "1" : "0"}};
}

/// With --resume, the run's settings come from the checkpoint. A flag given on the command line
/// that says otherwise is an error rather than silently overridden (or silently ignored).
void adopt_checkpoint_settings(const CLI::App& app, const nudge::serialization::Metadata& saved, Options& o,
                               std::string& hidden) {
  const nudge::serialization::Metadata mine = settings_of(o, hidden);
  for (const auto& [key, value] : saved) {
    const auto it = mine.find(key);
    if (it == mine.end() || it->second == value) continue;
    if (app.count("--" + key) > 0)
      throw nudge::Error("--" + key + " " + it->second + " conflicts with the checkpoint being resumed (" + key + " " +
                         value + "); drop the flag to continue that run, or start a new one without --resume");
  }
  const auto get = [&](const char* key, const char* absent = nullptr) {
    const auto it = saved.find(key);
    if (it != saved.end()) return it->second;
    if (absent != nullptr) return std::string(absent);  // a checkpoint from before the setting existed
    throw nudge::FormatError(std::string("--resume: the checkpoint has no \"") + key + "\" setting");
  };
  o.model = get("model", "mlp");
  o.epochs = std::stoi(get("epochs"));
  o.batch = std::stoll(get("batch"));
  o.optimizer = get("optimizer");
  o.lr = std::stod(get("lr"));
  o.momentum = std::stod(get("momentum"));
  hidden = get("hidden");
  o.train_limit = std::stoll(get("train-limit"));
  o.test_limit = std::stoll(get("test-limit", "0"));
  o.schedule = get("schedule");
  o.seed = std::stoull(get("seed"));
  o.dropout = std::stod(get("dropout", "0"));
  o.layernorm = get("layernorm", "0") == "1";
}

}  // namespace

int main(int argc, char** argv) try {
  using Clock = std::chrono::steady_clock;
  Options o;
  CLI::App app(o.model == "cnn" ? "a small CNN classifying Fashion-MNIST" : "an MLP classifying Fashion-MNIST");
  examples::CommonOptions common;
  examples::add_common_options(app, common);
  std::string hidden = o.model == "cnn" ? "128" : "256,128";
  app.add_option("--model", o.model, "mlp, or cnn (two convolutions with max-pooling before the hidden layers)")
      ->check(CLI::IsMember({"mlp", "cnn"}));
  app.add_option("--data", o.data, "directory with the four IDX files (.gz or plain)");
  app.add_option("--epochs", o.epochs, "training epochs")->check(examples::integer_at_least(1));
  app.add_option("--batch", o.batch, "batch size")->check(examples::integer_at_least(1));
  app.add_option("--optimizer", o.optimizer, "sgd (with momentum) or adam")->check(CLI::IsMember({"sgd", "adam"}));
  app.add_option("--lr", o.lr, "learning rate (use about 1e-3 for adam)")->check(examples::finite_at_least(0));
  app.add_option("--momentum", o.momentum, "SGD momentum")->check(examples::finite_at_least(0));
  app.add_option("--hidden", hidden, "hidden layer sizes, e.g. 256,128");
  app.add_option("--train-limit", o.train_limit, "use only the first N training images (0: all)")
      ->check(examples::integer_at_least(0));
  app.add_option("--test-limit", o.test_limit, "use only the first N test images (0: all)")
      ->check(examples::integer_at_least(0));
  app.add_option("--schedule", o.schedule, "learning rate schedule: cosine (annealed to 0 over the epochs) or constant")
      ->check(CLI::IsMember({"cosine", "constant"}));
  app.add_option("--dropout", o.dropout,
                 "dropout probability after each hidden layer, and of whole channels after the CNN's convolutions "
                 "(0: none)")
      ->check(CLI::Range(0.0, 0.99));
  app.add_flag("--layernorm", o.layernorm, "LayerNorm between each hidden Linear and its ReLU");
  app.add_option("--seed", o.seed, "seed of the initialisation and the shuffling")
      ->check(examples::integer_at_least(0));
  app.add_option("--save", o.save,
                 "after each epoch, write the whole training state (model, optimizer, schedule, data order, "
                 "epoch, settings) to this one checkpoint file, atomically");
  app.add_option("--resume", o.resume, "continue the run saved in this checkpoint (its settings apply)");
  CLI11_PARSE(app, argc, argv);
  const nudge::Device device = examples::check_common_options(common);
  examples::check_writable(o.save, "--save");
  if (o.model == "cnn" && app.count("--hidden") == 0) hidden = "128";  // the CNN's own default
  if (!o.resume.empty()) adopt_checkpoint_settings(app, nudge::checkpoint_settings(o.resume), o, hidden);
  if (o.model == "cnn" && o.layernorm) throw nudge::Error("--layernorm is for the MLP (--model mlp)");
  o.hidden = examples::parse_sizes(hidden, "--hidden");

  // The data.
  const auto load_start = Clock::now();
  const auto train = first(nudge::data::load_mnist(o.data, nudge::data::MnistSplit::Train), o.train_limit);
  const auto test = first(nudge::data::load_mnist(o.data, nudge::data::MnistSplit::Test), o.test_limit);
  const double load_seconds = std::chrono::duration<double>(Clock::now() - load_start).count();
  nudge::data::DataLoader loader(train, {.batch_size = o.batch, .shuffle = true, .seed = o.seed, .device = device});

  // The model, its optimizer and schedule (all restored from the checkpoint with --resume).
  nudge::manual_seed(o.seed);
  std::string architecture;
  nudge::nn::Sequential model = build_model(train.inputs().size(1), o, architecture);
  model.to(device);
  const auto optimizer = make_optimizer(o, model.parameters());
  nudge::optim::CosineAnnealingLR cosine(*optimizer, o.epochs);
  nudge::TrainingState state{&model, optimizer.get(), o.schedule == "cosine" ? &cosine : nullptr, &loader};
  state.settings = settings_of(o, hidden);
  if (!o.resume.empty()) std::printf("%s\n", nudge::load_checkpoint(o.resume, state).c_str());
  std::printf(
      "device: %s, %s ReLU %s%s%s, %s lr %g (%s), batch %lld, %lld train / %lld test images (loaded in %.2f s)\n",
      device.str().c_str(), architecture.c_str(), o.model == "cnn" ? "CNN" : "MLP", o.layernorm ? " + LayerNorm" : "",
      o.dropout > 0 ? (" + dropout " + std::to_string(o.dropout).substr(0, 4)).c_str() : "", o.optimizer.c_str(), o.lr,
      o.schedule.c_str(), static_cast<long long>(o.batch), static_cast<long long>(train.size()),
      static_cast<long long>(test.size()), load_seconds);

  // Training: an epoch, its test accuracy, a checkpoint.
  nudge::monitor::MetricsLog metrics({"epoch", "train_loss", "test_accuracy", "seconds"}, common.csv);
  nudge::monitor::ProgressBar bar(o.epochs, loader.num_batches());
  double accuracy = 0, train_seconds = 0, train_loss = 0;
  int epochs_run = 0;
  for (int epoch = static_cast<int>(state.epoch) + 1; epoch <= o.epochs; ++epoch) {
    const auto start = Clock::now();
    bar.start_epoch(epoch);
    train_loss = train_epoch(model, *optimizer, loader, bar, device);
    // A diverged run stops here, before its broken weights can replace the last good checkpoint.
    examples::require_finite_loss(train_loss, epoch);
    if (o.schedule == "cosine") cosine.step();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    train_seconds += seconds;
    ++epochs_run;
    nudge::monitor::ConfusionMatrix matrix(10);
    accuracy = evaluate(model, test, device, matrix);
    char summary[64];
    std::snprintf(summary, sizeof summary, "test accuracy %.4f", accuracy);
    bar.finish_epoch(summary, train_loss);
    metrics.add({static_cast<double>(epoch), train_loss, accuracy, seconds});
    state.epoch = epoch;
    state.step += loader.num_batches();
    if (!o.save.empty()) nudge::save_checkpoint(o.save, state);
    if (epoch == o.epochs) std::printf("\nconfusion matrix on the test set:\n%s", matrix.str(kClassNames).c_str());
  }
  if (epochs_run == 0) {
    std::printf("the checkpoint has finished all %d epochs: nothing to train\n", o.epochs);
    nudge::monitor::ConfusionMatrix matrix(10);
    accuracy = evaluate(model, test, device, matrix);
  }
  if (!common.plot.empty()) plot_curves(common.plot, metrics, architecture);
  examples::print_final({{"test_accuracy", accuracy},
                         {"train_loss", train_loss},
                         {"train_seconds", train_seconds},
                         {"seconds_per_epoch", epochs_run > 0 ? train_seconds / epochs_run : 0}});
  return 0;
} catch (const std::exception& e) {
  return examples::fail(e);
}

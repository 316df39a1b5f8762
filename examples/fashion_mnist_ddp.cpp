// Fashion-MNIST, data-parallel: the 784-256-128-10 ReLU MLP of fashion_mnist.cpp trained by N
// processes, each on its own shard of every epoch, the gradients averaged after each backward.
//   mpirun -np 2 build/bin/fashion_mnist_ddp            (one process: build/bin/fashion_mnist_ddp)
//   mpirun -np 2 build/bin/fashion_mnist_ddp --save run.ckpt  [... later: --resume run.ckpt --epochs 5]
// Every rank holds the same model (rank 0's initial weights), so rank 0 evaluates, draws the
// progress bar and writes the checkpoints for all; the loss and the throughput printed are summed
// over the ranks first. The global batch is N × --batch (PyTorch's DDP convention): the same
// learning rate then trains like one process with N times the batch.
#include <chrono>

#include "distributed/distributed.h"
#include "example_util.h"

namespace {

struct Options {
  std::string data = "/usr/share/datasets/fashion-mnist";
  int epochs = 3;
  std::int64_t batch = 128;  // per rank
  double lr = 0.05;
  std::int64_t train_limit = 0;
  std::uint64_t seed = 0;
  std::string save, resume;
};

/// What a checkpoint records of the run; resuming needs the same (only --epochs may grow).
nudge::serialization::Metadata settings_of(const Options& o, int ranks) {
  char lr[32];
  std::snprintf(lr, sizeof lr, "%.17g", o.lr);
  return {{"batch", std::to_string(o.batch)},
          {"lr", lr},
          {"seed", std::to_string(o.seed)},
          {"train-limit", std::to_string(o.train_limit)},
          {"ranks", std::to_string(ranks)}};
}

nudge::data::TensorDataset first(const nudge::data::TensorDataset& set, std::int64_t limit) {
  if (limit <= 0 || limit >= set.size()) return set;
  const nudge::data::Batch part = set.slice(0, limit);
  return {part.input, part.target};
}

double accuracy(nudge::nn::Module& model, const nudge::data::TensorDataset& set, nudge::Device device) {
  nudge::NoGradGuard no_grad;
  const nudge::Tensor predictions = nudge::argmax(model(set.inputs().to(device)), 1);
  return (predictions == set.targets().to(device)).mean().item<double>();
}

/// The whole run, on each rank.
int train(nudge::distributed::Environment& env, int argc, char** argv) {
  Options o;
  examples::CommonOptions common;
  CLI::App app{"Fashion-MNIST MLP trained data-parallel over MPI ranks (mpirun -np N)"};
  app.add_option("--data", o.data, "directory with the Fashion-MNIST IDX files");
  app.add_option("--epochs", o.epochs, "passes over the training set")->check(examples::integer_at_least(1));
  app.add_option("--batch", o.batch, "examples per step on each rank")->check(examples::integer_at_least(1));
  app.add_option("--lr", o.lr, "SGD learning rate (momentum 0.9)")->check(examples::finite_at_least(0));
  app.add_option("--train-limit", o.train_limit, "use only the first N training examples (0: all)")
      ->check(examples::integer_at_least(0));
  app.add_option("--seed", o.seed, "initial weights and shuffling")->check(examples::integer_at_least(0));
  app.add_option("--device", common.device, "auto (cuda:<local rank> where there is a GPU), cpu or cuda");
  app.add_option("--save", o.save, "after each epoch rank 0 writes the whole training state to this file");
  app.add_option("--resume", o.resume, "continue the run saved in this checkpoint (same flags; --epochs may grow)");
  CLI11_PARSE(app, argc, argv);
  const bool root = env.rank() == 0;
  const nudge::Device device = common.device == "cpu"
                                   ? nudge::Device::cpu()
                                   : (common.device == "auto" ? env.device() : nudge::Device::cuda(env.local_rank()));
  if (root) std::printf("%s; training on %s\n", env.description().c_str(), device.str().c_str());
  if (root) examples::check_writable(o.save, "--save");

  const auto train = first(nudge::data::load_mnist(o.data, nudge::data::MnistSplit::Train), o.train_limit);
  const auto test = nudge::data::load_mnist(o.data, nudge::data::MnistSplit::Test);
  nudge::manual_seed(o.seed + static_cast<std::uint64_t>(env.rank()));  // the DDP makes rank 0's weights everyone's
  nudge::nn::Sequential model(nudge::nn::Linear(784, 256, nudge::nn::Activation::ReLU),
                              nudge::nn::Linear(256, 128, nudge::nn::Activation::ReLU), nudge::nn::Linear(128, 10));
  model.to(device);
  nudge::distributed::DistributedDataParallel ddp(model, env.group());
  nudge::data::DataLoader loader(train, {.batch_size = o.batch,
                                         .shuffle = true,
                                         .seed = o.seed,
                                         .device = device,
                                         .num_replicas = env.world_size(),
                                         .rank = env.rank()});
  nudge::optim::SGD sgd(model.parameters(), {.lr = o.lr, .momentum = 0.9});
  nudge::TrainingState state{.model = &model, .optimizer = &sgd, .loader = &loader};
  state.settings = settings_of(o, env.world_size());
  if (!o.resume.empty()) {
    const std::string account = nudge::distributed::load_checkpoint(env.group(), o.resume, state);
    if (root) std::printf("%s\n", account.c_str());
    for (const auto& [key, value] : settings_of(o, env.world_size()))
      if (state.settings.at(key) != value)
        throw nudge::Error("--resume: the checkpoint's run has " + key + " " + state.settings.at(key) + ", not " +
                           value + "; resume with the flags it was started with");
  }

  // Rank 0 draws the bar (of its own running loss); the others draw nothing.
  nudge::monitor::ProgressBar bar(o.epochs, loader.num_batches(), root ? stdout : nullptr);
  double loss = 0, per_rank = 0, all_ranks = 0, test_accuracy = 0;
  for (int epoch = static_cast<int>(state.epoch) + 1; epoch <= o.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    bar.start_epoch(epoch);
    nudge::Tensor loss_sum = nudge::zeros({}, nudge::TensorOptions(nudge::kFloat64).device(device));
    std::int64_t examples = 0, batch_index = 0;
    for (const nudge::data::Batch& batch : loader) {
      sgd.zero_grad();
      const nudge::Tensor l = nudge::nn::cross_entropy(ddp(batch.input), batch.target);
      l.backward();
      sgd.step();
      const std::int64_t n = batch.input.size(0);
      loss_sum = loss_sum + l.detach().to(nudge::kFloat64) * static_cast<double>(n);
      examples += n;
      bar.update(++batch_index, n, [&] { return loss_sum.item<double>() / static_cast<double>(examples); });
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // The loss over every rank's examples; this rank's throughput, and all ranks' together.
    per_rank = static_cast<double>(examples) / seconds;
    const std::vector<double> totals = nudge::distributed::all_reduce_values(
        env.group(), {loss_sum.item<double>(), static_cast<double>(examples), per_rank});
    loss = totals[0] / totals[1];
    all_ranks = totals[2];
    examples::require_finite_loss(loss, epoch);  // on every rank alike: the totals are the same everywhere
    state.epoch = epoch;
    state.step += loader.num_batches();
    if (!o.save.empty()) nudge::distributed::save_checkpoint(env.group(), o.save, state);
    if (root) {
      test_accuracy = accuracy(model, test, device);
      char summary[160];
      std::snprintf(summary, sizeof summary, "test accuracy %.4f; %.0f examples/s on rank 0, %.0f on all %d ranks",
                    test_accuracy, per_rank, all_ranks, env.world_size());
      bar.finish_epoch(summary, loss);
    }
  }
  if (root && state.epoch >= o.epochs && bar.last_line().empty()) {
    std::printf("the checkpoint has finished all %d epochs: nothing to train\n", o.epochs);
    test_accuracy = accuracy(model, test, device);
  }
  if (root)
    examples::print_final({{"test_accuracy", test_accuracy},
                           {"train_loss", loss},
                           {"ranks", env.world_size()},
                           {"examples_per_second_rank0", per_rank},
                           {"examples_per_second", all_ranks}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    nudge::distributed::Environment env;
    try {
      return train(env, argc, argv);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "rank %d: ", env.rank());
      examples::fail(e);
      env.abort(1);  // every rank stops, not only this one
    }
  } catch (const std::exception& e) {  // no Environment
    return examples::fail(e);
  }
}

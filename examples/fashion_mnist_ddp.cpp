// Fashion-MNIST, data-parallel: the 784-256-128-10 ReLU MLP of fashion_mnist.cpp trained by N
// processes, each on its own shard of every epoch, the gradients averaged after each backward.
//   mpirun -np 2 build/bin/fashion_mnist_ddp            (one process: build/bin/fashion_mnist_ddp)
// Every rank holds the same model (rank 0's initial weights), so rank 0 evaluates and prints for
// all; the loss is averaged across ranks; throughput is measured per rank and summed.
// The global batch is N × --batch (PyTorch's DDP convention): the same learning rate then trains
// like one process with N times the batch.
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
};

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

}  // namespace

int main(int argc, char** argv) {
  try {
    nudge::distributed::Environment env;
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
    CLI11_PARSE(app, argc, argv);
    const bool root = env.rank() == 0;
    const nudge::Device device = common.device == "cpu"
                                     ? nudge::Device::cpu()
                                     : (common.device == "auto" ? env.device() : nudge::Device::cuda(env.local_rank()));
    if (root) std::printf("%s; training on %s\n", env.description().c_str(), device.str().c_str());

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

    double loss = 0, per_rank = 0, all_ranks = 0, test_accuracy = 0;
    for (int epoch = 1; epoch <= o.epochs; ++epoch) {
      const auto start = std::chrono::steady_clock::now();
      nudge::Tensor loss_sum = nudge::zeros({}, nudge::TensorOptions(nudge::kFloat64).device(device));
      std::int64_t examples = 0;
      for (const nudge::data::Batch& batch : loader) {
        sgd.zero_grad();
        const nudge::Tensor l = nudge::nn::cross_entropy(ddp(batch.input), batch.target);
        l.backward();
        sgd.step();
        loss_sum = loss_sum + l.detach().to(nudge::kFloat64) * static_cast<double>(batch.input.size(0));
        examples += batch.input.size(0);
      }
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      // Loss over every rank's examples; throughput of this rank, and summed over the ranks.
      nudge::Tensor totals =
          nudge::stack({loss_sum.cpu(), nudge::full({}, static_cast<double>(examples), nudge::kFloat64),
                        nudge::full({}, examples / seconds, nudge::kFloat64)});
      env.group().all_reduce(totals);
      const std::vector<double> t = totals.to_vector<double>();
      loss = t[0] / t[1];
      per_rank = examples / seconds;
      all_ranks = t[2];
      if (root) {
        test_accuracy = accuracy(model, test, device);
        std::printf(
            "epoch %d: train loss %.4f, test accuracy %.4f, %.1f s; %.0f examples/s on rank 0, %.0f on all %d ranks\n",
            epoch, loss, test_accuracy, seconds, per_rank, all_ranks, env.world_size());
      }
    }
    if (root)
      examples::print_final({{"test_accuracy", test_accuracy},
                             {"train_loss", loss},
                             {"ranks", env.world_size()},
                             {"examples_per_second_rank0", per_rank},
                             {"examples_per_second", all_ranks}});
    return 0;
  } catch (const std::exception& e) {
    return examples::fail(e);
  }
}

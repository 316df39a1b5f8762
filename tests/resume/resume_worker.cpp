// A training run that checkpoints as it goes and resumes from its checkpoint when one exists: the
// subject of tests/resume_test.cpp, which stops it (by request or with SIGKILL) at every point and
// checks that resuming gives the weights of the uninterrupted run, bit for bit.
//
//   resume_worker --config sgd-step|adamw-cosine|adamw-dropout --checkpoint PATH [--stop-after STEP]
//                 [--save-every K] [--epochs E] [--step-delay-ms MS]
//
// Prints "resumed from ..." when it resumed, and at the end "final: <hash of every parameter>".
// --stop-after exits with status 3 right after that step (and its checkpoint, if one was due).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include <nudge/nudge.h>

namespace {

struct Args {
  std::string config = "sgd-step", checkpoint;
  std::int64_t stop_after = 0, save_every = 1, epochs = 4, step_delay_ms = 0;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--config") a.config = value;
    else if (flag == "--checkpoint") a.checkpoint = value;
    else if (flag == "--stop-after") a.stop_after = std::stoll(value);
    else if (flag == "--save-every") a.save_every = std::stoll(value);
    else if (flag == "--epochs") a.epochs = std::stoll(value);
    else if (flag == "--step-delay-ms") a.step_delay_ms = std::stoll(value);
    else throw nudge::Error("resume_worker: unknown flag " + flag);
  }
  if (a.checkpoint.empty()) throw nudge::Error("resume_worker: --checkpoint is required");
  return a;
}

/// FNV-1a over the bytes of every parameter: equal hashes mean bit-identical weights.
std::uint64_t hash_parameters(const nudge::nn::Module& model) {
  std::uint64_t h = 1469598103934665603ull;
  for (const nudge::Tensor& p : model.parameters()) {
    const nudge::Tensor c = p.detach().cpu().contiguous();
    const auto* bytes = static_cast<const unsigned char*>(c.data_ptr());
    for (std::int64_t i = 0; i < c.numel() * static_cast<std::int64_t>(c.element_size()); ++i)
      h = (h ^ bytes[i]) * 1099511628211ull;
  }
  return h;
}

}  // namespace

int main(int argc, char** argv) try {
  const Args args = parse(argc, argv);
  // The data: 200 examples of 4 features, 3 classes, the same in every process.
  nudge::Generator data_gen(123);
  const nudge::Tensor x = nudge::randn({200, 4}, data_gen);
  const nudge::Tensor y = nudge::argmax(nudge::matmul(x, nudge::randn({4, 3}, data_gen)), 1);
  nudge::data::DataLoader loader(nudge::data::TensorDataset(x, y), {.batch_size = 32, .shuffle = true, .seed = 5});

  nudge::Generator init_gen(7);
  nudge::nn::Sequential model;
  model.push_back(nudge::nn::Linear(4, 16, {.activation = nudge::nn::Activation::ReLU, .generator = &init_gen}));
  // "adamw-dropout": masks from the default generator and from a layer's own one; a resumed run
  // must draw the masks the uninterrupted one would have drawn.
  const bool dropout = args.config == "adamw-dropout";
  nudge::manual_seed(11);
  nudge::Generator mask_gen(13);
  if (dropout) {
    model.push_back(nudge::nn::Dropout(0.3));
    model.push_back(nudge::nn::Linear(16, 16, {.activation = nudge::nn::Activation::ReLU, .generator = &init_gen}));
    model.push_back(nudge::nn::Dropout(0.2, &mask_gen));
  }
  model.push_back(nudge::nn::Linear(16, 3, {.generator = &init_gen}));

  std::unique_ptr<nudge::optim::Optimizer> optimizer;
  std::unique_ptr<nudge::optim::LRScheduler> scheduler;
  if (args.config == "sgd-step") {
    optimizer =
        std::make_unique<nudge::optim::SGD>(model.parameters(), nudge::optim::SGDOptions{.lr = 0.1, .momentum = 0.9});
    scheduler = std::make_unique<nudge::optim::StepLR>(*optimizer, 1, 0.7);
  } else if (args.config == "adamw-cosine" || dropout) {
    optimizer = std::make_unique<nudge::optim::AdamW>(model.parameters(), nudge::optim::AdamWOptions{.lr = 0.01});
    scheduler = std::make_unique<nudge::optim::CosineAnnealingLR>(*optimizer, args.epochs);
  } else {
    throw nudge::Error("resume_worker: unknown --config " + args.config);
  }

  nudge::TrainingState state{&model, optimizer.get(), scheduler.get(), &loader};
  if (dropout) state.generators["masks"] = &mask_gen;
  if (std::filesystem::exists(args.checkpoint))
    std::printf("%s\n", nudge::load_checkpoint(args.checkpoint, state).c_str());

  nudge::nn::CrossEntropyLoss cross_entropy;
  for (std::int64_t epoch = state.epoch; epoch < args.epochs; ++epoch) {
    for (const nudge::data::Batch& batch : loader) {
      optimizer->zero_grad();
      cross_entropy(model(batch.input), batch.target).backward();
      optimizer->step();
      ++state.step;
      if (args.save_every > 0 && state.step % args.save_every == 0) nudge::save_checkpoint(args.checkpoint, state);
      if (args.stop_after > 0 && state.step == args.stop_after) return 3;
      if (args.step_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(args.step_delay_ms));
    }
    scheduler->step();
    state.epoch = epoch + 1;
    nudge::save_checkpoint(args.checkpoint, state);
  }
  std::printf("final: %016llx\n", static_cast<unsigned long long>(hash_parameters(model)));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}

// libFuzzer harness: arbitrary bytes as a training checkpoint, loaded into a fixed training state
// (a 2-4-2 MLP, SGD with momentum, StepLR, a shuffling DataLoader over 10 examples). Only
// nudge::Errors may come out, and a refused load must leave the state as it was.
//
// NUDGE_FUZZ_WRITE_SEED=PATH: write a valid checkpoint of that state to PATH (the seed corpus).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include <nudge/nudge.h>

namespace {

struct Fixture {
  nudge::nn::Sequential model;
  std::unique_ptr<nudge::optim::SGD> sgd;
  std::unique_ptr<nudge::optim::StepLR> schedule;
  std::unique_ptr<nudge::data::DataLoader> loader;
  std::string path;

  Fixture() {
    nudge::Generator gen(1);
    model.push_back(nudge::nn::Linear(2, 4, {.activation = nudge::nn::Activation::Tanh, .generator = &gen}));
    model.push_back(nudge::nn::Linear(4, 2, {.generator = &gen}));
    sgd = std::make_unique<nudge::optim::SGD>(model.parameters(), nudge::optim::SGDOptions{.lr = 0.1, .momentum = 0.9});
    schedule = std::make_unique<nudge::optim::StepLR>(*sgd, 2);
    const nudge::Tensor x = nudge::rand({10, 2}, gen), y = nudge::zeros({10}, nudge::kInt64);
    loader = std::make_unique<nudge::data::DataLoader>(
        nudge::data::TensorDataset(x, y), nudge::data::DataLoaderOptions{.batch_size = 4, .shuffle = true});
    // One step, so the optimizer has momentum state and the loader a position worth saving.
    for (const auto& batch : *loader) {
      nudge::nn::CrossEntropyLoss()(model(batch.input), batch.target).backward();
      sgd->step();
      break;
    }
    std::string pattern = "/tmp/nudge-fuzz-checkpoint-XXXXXX";
    const int fd = ::mkstemp(pattern.data());
    if (fd >= 0) ::close(fd);
    path = pattern;
    if (const char* seed = std::getenv("NUDGE_FUZZ_WRITE_SEED")) {
      nudge::TrainingState state = this->state();
      state.epoch = 1;
      state.step = 1;
      state.settings = {{"lr", "0.1"}};
      nudge::save_checkpoint(seed, state);
    }
  }
  ~Fixture() { ::unlink(path.c_str()); }
  nudge::TrainingState state() { return {&model, sgd.get(), schedule.get(), loader.get()}; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  std::ofstream(fixture.path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  const auto before = fixture.model.state_dict();
  nudge::TrainingState state = fixture.state();
  try {
    nudge::load_checkpoint(fixture.path, state);
  } catch (const nudge::Error&) {
    // Refused: the model must be untouched.
    const auto after = fixture.model.state_dict();
    for (std::size_t i = 0; i < before.size(); ++i)
      if (std::memcmp(before[i].second.data_ptr(), after[i].second.data_ptr(),
                      static_cast<std::size_t>(before[i].second.numel()) * before[i].second.element_size()) != 0)
        std::abort();
  }
  return 0;
}

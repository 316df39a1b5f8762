// Threads (issue "Nothing bad gets in", item 6). CI runs this file under ThreadSanitizer
// (scripts/sanitizers), so a data race here fails the run even when the values come out right.
#include <algorithm>
#include <thread>
#include <vector>

#include "test_util.h"

namespace nudge::testing {
namespace {

/// A few SGD steps of a small MLP whose weights come from `generator`; returns its parameters.
std::vector<std::vector<float>> train_small_model(Generator& generator) {
  nn::Sequential model;
  model.push_back(nn::Linear(3, 8, {.activation = nn::Activation::Tanh, .generator = &generator}));
  model.push_back(nn::Linear(8, 1, {.generator = &generator}));
  optim::SGD optimizer(model.parameters(), {.lr = 0.1, .momentum = 0.9});
  const Tensor x = rand({16, 3}, generator), y = rand({16, 1}, generator);
  for (int step = 0; step < 20; ++step) {
    optimizer.zero_grad();
    mse_loss(model(x), y).backward();
    optimizer.step();
  }
  std::vector<std::vector<float>> values;
  for (const Tensor& p : model.parameters()) values.push_back(p.to_vector<float>());
  return values;
}

TEST(Threading, ModelsTrainedInTwoThreadsMatchSequentialRuns) {
  Generator g1(1), g2(2);
  const auto expected1 = train_small_model(g1), expected2 = train_small_model(g2);
  Generator t1(1), t2(2);
  std::vector<std::vector<float>> got1, got2;
  std::thread a([&] { got1 = train_small_model(t1); });
  std::thread b([&] { got2 = train_small_model(t2); });
  a.join();
  b.join();
  EXPECT_EQ(got1, expected1);  // bit-identical
  EXPECT_EQ(got2, expected2);
}

/// Large elementwise ops of every loop kind (vectorised math, unary, binary, fill, cast), as bits.
std::vector<std::vector<double>> large_elementwise_results() {
  Generator gen(9);
  const std::int64_t n = 200003;  // several ranges of the pool, and an odd tail
  const Tensor x = randn({n}, gen), y = randn({n}, gen), x64 = x.to(kFloat64);
  return {sigmoid(x).to(kFloat64).to_vector<double>(), exp(x64).to_vector<double>(),
          tanh(x).to(kFloat64).to_vector<double>(), (x * y + x).to(kFloat64).to_vector<double>(),
          abs(x64).to_vector<double>(), full({n}, 0.25).to(kFloat64).to_vector<double>(),
          relu(x).to(kFloat64).to_vector<double>(),
          // Reductions: one long row (fixed chunks), many rows, one block of columns, argmax.
          sum(x).to(kFloat64).to_vector<double>(), sum(x64).to_vector<double>(),
          sum(x.narrow(0, 0, 200000).view({400, 500}), 1).to(kFloat64).to_vector<double>(),
          sum(x.narrow(0, 0, 200000).view({500, 400}), 0).to(kFloat64).to_vector<double>(),
          std::get<1>(max(x64.narrow(0, 0, 200000).view({500, 400}), 0)).to(kFloat64).to_vector<double>(),
          std::get<1>(max(x, 0)).to(kFloat64).to_vector<double>()};
}

// The pool splits a loop into ranges, and every element is computed by the same code whichever
// thread runs it (a reduction splits by output, or into fixed chunks of a long row combined in
// order): one thread and several give the same bits. Several user threads calling large ops
// at once share the pool (one loop at a time, the others run on their own thread).
TEST(Threading, ParallelLoopsGiveTheBitsOfOneThread) {
  const int before = num_threads();
  set_num_threads(1);
  EXPECT_EQ(num_threads(), 1);
  const auto one = large_elementwise_results();
  set_num_threads(3);
  EXPECT_EQ(num_threads(), 3);
  EXPECT_EQ(large_elementwise_results(), one);
  std::vector<std::vector<std::vector<double>>> got(4);
  std::vector<std::thread> callers;
  for (std::size_t t = 0; t < got.size(); ++t) callers.emplace_back([&, t] { got[t] = large_elementwise_results(); });
  for (std::thread& t : callers) t.join();
  for (const auto& g : got) EXPECT_EQ(g, one);
  set_num_threads(before);
}

TEST(Threading, TheDefaultGeneratorGivesEachTensorAContiguousRunOfDraws) {
  // Threads draw from the shared default generator at once. Each tensor must be one of the
  // tensors a single thread would have drawn (in some order): draws never interleave.
  constexpr int kThreads = 4, kPerThread = 25;
  constexpr std::int64_t kSize = 64;
  manual_seed(7);
  std::vector<std::vector<std::vector<float>>> drawn(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        drawn[t].push_back(rand({kSize}).to_vector<float>());
        if (i % 5 == 0) nn::Linear layer(4, 4);  // the layers' initialisation draws too
      }
    });
  for (auto& thread : threads) thread.join();
  std::vector<std::vector<float>> all;
  for (const auto& d : drawn) all.insert(all.end(), d.begin(), d.end());
  // Every drawn tensor must be a window of the one stream a single thread would have drawn (the
  // Linear layers' runs sit between them).
  manual_seed(7);
  const std::vector<float> stream = rand({kSize * kThreads * kPerThread * 2}).to_vector<float>();
  for (const auto& tensor : all) {
    const auto at = std::search(stream.begin(), stream.end(), tensor.begin(), tensor.end());
    EXPECT_NE(at, stream.end()) << "a tensor's draws were interleaved with another thread's";
  }
}

TEST(Threading, ManualSeedAndDrawsFromManyThreadsAreRaceFree) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t] {
      for (int i = 0; i < 50; ++i) {
        if (i % 10 == t) manual_seed(static_cast<std::uint64_t>(i));
        const Tensor r = randn({8}) + rand({8});
        EXPECT_EQ(r.numel(), 8);
      }
    });
  for (auto& thread : threads) thread.join();
}

}  // namespace
}  // namespace nudge::testing

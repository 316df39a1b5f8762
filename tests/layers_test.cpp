// Layers with train/eval behaviour and buffers (Dropout, LayerNorm, BatchNorm1d, Embedding,
// ModuleList), on every device. Their numbers against PyTorch's are Interop.LayersMatchPyTorch's
// (run by tests/interop/torch_interop.sh); here: the behaviour PyTorch's numbers cannot show.
#include <cmath>

#include "test_util.h"

namespace nudge::testing {
namespace {

class LayersTest : public DeviceTest {};

/// A module with a parameter, a float buffer and an int64 buffer, inside a child.
struct WithBuffers : nn::Module {
  WithBuffers() {
    scale = register_parameter("scale", ones({2}));
    stat = register_buffer("stat", full({2}, 3.0));
    count = register_buffer("count", zeros({}, kInt64));
  }
  Tensor forward(const Tensor& x) override { return x * scale + stat; }
  void register_buffer_for_test() { register_buffer("scale", zeros({1})); }  // a parameter's name
  Tensor scale, stat, count;
};

struct Outer : nn::Module {
  Outer() { inner = register_module("inner", std::make_shared<WithBuffers>()); }
  Tensor forward(const Tensor& x) override { return inner->forward(x); }
  std::shared_ptr<WithBuffers> inner;
};

TEST_P(LayersTest, BuffersAreSavedAndMovedButNotTrained) {
  Outer model;
  EXPECT_EQ(model.parameters().size(), 1u);
  ASSERT_EQ(model.named_buffers().size(), 2u);
  EXPECT_EQ(model.named_buffers()[0].first, "inner.stat");
  const nn::StateDict state = model.state_dict();
  ASSERT_EQ(state.size(), 3u);  // the parameter, then the buffers: PyTorch's order
  EXPECT_EQ(state[0].first, "inner.scale");
  EXPECT_EQ(state[1].first, "inner.stat");
  EXPECT_EQ(state[2].first, "inner.count");
  model.to(device());
  model.to(kFloat64);
  EXPECT_EQ(model.inner->stat.device(), device());
  EXPECT_EQ(model.inner->stat.dtype(), kFloat64);
  EXPECT_EQ(model.inner->count.dtype(), kInt64);  // int64 buffers stay int64
  EXPECT_FALSE(model.inner->stat.requires_grad());
  // load_state_dict writes buffers in place; a missing buffer is a missing key.
  nn::StateDict changed = state;
  changed[1].second = full({2}, 7.0);
  model.load_state_dict(changed);
  EXPECT_TRUE(values_are(model.inner->stat, {7, 7}, 0));
  changed.pop_back();
  EXPECT_TRUE(throws_error_with([&] { model.load_state_dict(changed); }, {"missing keys: inner.count"}));
  EXPECT_TRUE(throws_error_with([&] { model.inner->register_buffer_for_test(); }, {"already registered"}));
}

TEST_P(LayersTest, DropoutScalesWhatItKeepsAndIsTheIdentityInEval) {
  Generator gen(5);
  nn::Dropout drop(0.25, &gen);
  const Tensor x = full({4000}, 2.0, options(kFloat64)).requires_grad_();
  const Tensor y = drop(x);
  const std::vector<double> values = y.cpu().to_vector<double>();
  std::int64_t zeros_seen = 0;
  for (const double v : values) {
    ASSERT_TRUE(v == 0 || std::abs(v - 2.0 / 0.75) < 1e-15) << v;
    zeros_seen += v == 0;
  }
  EXPECT_NEAR(static_cast<double>(zeros_seen) / 4000, 0.25, 0.03);
  y.sum().backward();  // the gradient is the same mask, scaled
  const std::vector<double> grads = x.grad().cpu().to_vector<double>();
  for (std::size_t i = 0; i < grads.size(); ++i) ASSERT_EQ(grads[i] == 0, values[i] == 0);
  // Seeded: the same generator state gives the same mask on every device.
  Generator again(5);
  nn::Dropout same(0.25, &again);
  EXPECT_TRUE(all_close(same(full({4000}, 2.0, TensorOptions(kFloat64))), y.cpu(), 0, 0));
  drop.eval();
  EXPECT_TRUE(all_close(drop(x), x, 0, 0));
  nn::Dropout all(1.0);
  EXPECT_TRUE(values_are(all(full({3}, 5.0, options())), {0, 0, 0}, 0));
  EXPECT_TRUE(throws_error_with([] { nn::Dropout(1.5); }, {"Dropout", "between 0 and 1", "1.5"}));
}

TEST_P(LayersTest, BatchNormUsesBatchStatisticsInTrainingAndRunningOnesInEval) {
  nn::BatchNorm1d bn(2);
  bn.to(device());
  bn.to(kFloat64);
  const Tensor x = tensor({1, 10, 3, 20, 5, 30}, {3, 2}, options(kFloat64));
  const Tensor y = bn(x);
  // Each feature normalised over the batch: mean 0, biased variance ≈ 1.
  EXPECT_TRUE(values_are(mean(y, 0), {0, 0}, 1e-12));
  EXPECT_TRUE(values_are(var(y, 0, false), {1, 1}, 1e-4));
  // Running statistics moved 10% towards the batch's (unbiased variance).
  EXPECT_TRUE(values_are(bn.running_mean, {0.3, 2.0}, 1e-12));
  EXPECT_TRUE(values_are(bn.running_var, {0.9 + 0.1 * 4, 0.9 + 0.1 * 100}, 1e-12));
  EXPECT_EQ(bn.num_batches_tracked.item<std::int64_t>(), 1);
  bn.eval();
  const Tensor one = tensor({0.3, 2.0}, {1, 2}, options(kFloat64));
  EXPECT_TRUE(values_are(bn(one), {0, 0}, 1e-12));  // eval: normalised by the running mean, a batch of 1 is fine
  EXPECT_EQ(bn.num_batches_tracked.item<std::int64_t>(), 1);
  bn.train();
  EXPECT_TRUE(throws_error_with([&] { bn(one); }, {"BatchNorm1d", "more than 1 value per channel"}));
  EXPECT_TRUE(throws_error_with([&] { bn(zeros({3, 5}, options(kFloat64))); }, {"BatchNorm1d", "[N, 2]", "[3, 5]"}));
}

TEST_P(LayersTest, LayerNormNormalisesEachSample) {
  nn::LayerNorm ln({4});
  ln.to(device());
  const Tensor x = tensor({1, 2, 3, 4, -10, 0, 10, 20}, {2, 4}, options());
  const Tensor y = ln(x);
  EXPECT_TRUE(values_are(mean(y, 1), {0, 0}, 1e-6));
  EXPECT_TRUE(values_are(var(y, 1, false), {1, 1}, 1e-4));
  EXPECT_TRUE(throws_error_with([&] { ln(zeros({2, 3}, options())); }, {"LayerNorm", "trailing shape [4]", "[2, 3]"}));
}

TEST_P(LayersTest, EmbeddingLooksUpRowsAndSkipsThePaddingRow) {
  Generator gen(1);
  nn::Embedding emb(5, 3, /*padding_idx=*/-1, &gen);
  emb.to(device());
  EXPECT_TRUE(values_are(emb.weight[4], {0, 0, 0}, 0));
  const Tensor idx = from_vector<std::int64_t>({1, 4, 1, 0}, {2, 2}, options(kInt64));
  const Tensor y = emb(idx);
  EXPECT_EQ(y.shape(), (Shape{2, 2, 3}));
  EXPECT_TRUE(all_close(y[0][0], emb.weight[1].detach(), 0, 0));
  y.sum().backward();
  EXPECT_TRUE(values_are(emb.weight.grad(), {1, 1, 1, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0));
  EXPECT_TRUE(throws_error_with([&] { emb(from_vector<std::int64_t>({5}, {1}, options(kInt64))); },
                                {"index 5 is out of bounds", "size 5"}));
  EXPECT_TRUE(throws_error_with([&] { emb(zeros({1}, options())); }, {"Embedding", "int64 indices"}));
}

TEST(Layers, ModuleListRegistersItsModules) {
  nn::ModuleList list(nn::Linear(2, 3), nn::Linear(3, 1));
  list.push_back(std::make_shared<nn::BatchNorm1d>(1));
  EXPECT_EQ(list.size(), 3u);
  EXPECT_EQ(list.parameters().size(), 6u);
  EXPECT_EQ(list.named_parameters()[2].first, "1.weight");
  EXPECT_EQ(list.named_buffers().size(), 3u);
  Tensor h = zeros({4, 2});
  for (const auto& m : list) h = m->forward(h);
  EXPECT_EQ(h.shape(), (Shape{4, 1}));
  EXPECT_TRUE(throws_error_with([&] { list(h); }, {"ModuleList has no forward"}));
  EXPECT_TRUE(throws_error_with([&] { list[3]; }, {"ModuleList", "index 3", "3 modules"}));
  list.eval();
  EXPECT_FALSE(list[2]->is_training());
  // Copying a non-const list copies it (sharing the modules); it does not nest the list in a new one.
  nn::ModuleList copy(list);
  EXPECT_EQ(copy.size(), 3u);
  EXPECT_EQ(copy.named_parameters()[0].first, "0.weight");
}

INSTANTIATE_TEST_SUITE_P(Devices, LayersTest, ::testing::ValuesIn(test_devices()), device_param_name);

}  // namespace
}  // namespace nudge::testing

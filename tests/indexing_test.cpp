// Joining, splitting and indexing ops against PyTorch 1.13's numbers, on every device: values,
// gradients (repeated indices accumulate), and the errors for bad indices and shapes.
#include <algorithm>
#include <cmath>
#include <limits>

#include "test_util.h"

namespace nudge::testing {
namespace {

class IndexingTest : public DeviceTest {
 protected:
  Tensor f64(const std::vector<double>& values, Shape shape) { return tensor(values, shape, options(kFloat64)); }
  Tensor i64(const std::vector<std::int64_t>& values, Shape shape) {
    return from_vector(values, shape, options(kInt64));
  }
  Tensor matrix() { return arange(0, 12, 1, options(kFloat64)).reshape({3, 4}).detach().requires_grad_(); }
};

TEST_P(IndexingTest, GatherAndItsGradient) {
  const Tensor x = matrix();
  const Tensor y = gather(x, 1, i64({0, 3, 1, 1, 2, 0}, {3, 2}));
  EXPECT_TRUE(values_are(y, {0, 3, 5, 5, 10, 8}, 0));
  y.backward(f64({1, 2, 3, 4, 5, 6}, {3, 2}));
  // Row 1 picks column 1 twice: its gradients add up (3 + 4).
  EXPECT_TRUE(values_are(x.grad(), {1, 0, 0, 2, 0, 7, 0, 0, 6, 0, 5, 0}, 0));
}

TEST_P(IndexingTest, ScatterAddAccumulatesRepeatedIndices) {
  const Tensor self = zeros({2, 3}, options(kFloat64)).requires_grad_();
  const Tensor src = f64({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  const Tensor y = scatter_add(self, 0, i64({0, 1, 0, 1, 0, 1}, {2, 3}), src);
  EXPECT_TRUE(values_are(y, {1, 5, 3, 4, 2, 6}, 0));
  y.backward(f64({1, 2, 3, 4, 5, 6}, {2, 3}));
  EXPECT_TRUE(values_are(self.grad(), {1, 2, 3, 4, 5, 6}, 0));
  EXPECT_TRUE(values_are(src.grad(), {1, 5, 3, 4, 2, 6}, 0));  // gather of the gradient
  // Many additions into one element (atomics on CUDA): an exact integer sum in float64.
  const Tensor ones_src = ones({1, 100000}, options(kFloat64));
  const Tensor total = scatter_add(zeros({1, 1}, options(kFloat64)), 1, zeros({1, 100000}, options(kInt64)), ones_src);
  EXPECT_TRUE(values_are(total, {100000}, 0));
  // int64 too.
  EXPECT_TRUE(
      values_are(scatter_add(zeros({3}, options(kInt64)), 0, i64({2, 2, 0}, {3}), i64({5, 6, 7}, {3})), {7, 0, 11}, 0));
}

TEST_P(IndexingTest, IndexSelectAndOperatorIndex) {
  const Tensor x = matrix();
  const Tensor y = index_select(x, 0, i64({2, 0, 2}, {3}));
  EXPECT_TRUE(values_are(y, {8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11}, 0));
  y.sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 2, 2}, 0));
  EXPECT_TRUE(values_are(index_select(x.detach(), 1, i64({3, 0}, {2})), {3, 0, 7, 4, 11, 8}, 0));
  EXPECT_EQ(index_select(x.detach(), 1, i64({}, {0})).shape(), (Shape{3, 0}));
  EXPECT_TRUE(values_are(x.detach()[1], {4, 5, 6, 7}, 0));
  EXPECT_TRUE(values_are(x.detach()[-1], {8, 9, 10, 11}, 0));
  EXPECT_TRUE(values_are(x.detach().index(0)[2], {2}, 0));
  // Non-contiguous input: a transposed view.
  EXPECT_TRUE(values_are(index_select(x.detach().t(), 0, i64({1}, {1})), {1, 5, 9}, 0));
}

TEST_P(IndexingTest, BadIndicesAreErrors) {
  const Tensor x = matrix().detach();
  EXPECT_TRUE(throws_error_with(
      [&] {
        index_select(x, 0, i64({0, 3}, {2}));
      },
      {"index_select", "index 3 is out of bounds for dim 0 of size 3"}));
  EXPECT_TRUE(throws_error_with([&] { gather(x, 1, i64({-1, 0, 0}, {3, 1})); }, {"gather", "index -1"}));
  EXPECT_TRUE(throws_error_with([&] { gather(x, 1, f64({0, 0, 0}, {3, 1})); }, {"gather", "int64 index"}));
  EXPECT_TRUE(throws_error_with([&] { gather(x, 1, i64({0, 0}, {2})); }, {"gather", "same number of dims"}));
  EXPECT_TRUE(throws_error_with([&] { gather(x, 1, i64({0, 0, 0, 0}, {4, 1})); }, {"gather", "larger than", "dim 0"}));
  EXPECT_TRUE(throws_error_with([&] { index_select(x, 2, i64({0}, {1})); }, {"index_select", "dim"}));
  EXPECT_TRUE(throws_error_with([&] { index_select(x, 0, i64({0, 1}, {1, 2})); }, {"index_select", "0-d or 1-d"}));
  EXPECT_TRUE(throws_error_with([&] { x[3]; }, {"select", "index 3 is out of bounds"}));
  EXPECT_TRUE(throws_error_with(
      [&] {
        scatter_add(x, 0, i64({0}, {1, 1}), ones({1, 1}, options(kFloat32)));
      },
      {"scatter_add", "float64", "float32"}));
}

TEST_P(IndexingTest, WhereAndMaskedFill) {
  const Tensor a = f64({1, 2, 3, 4}, {4}).requires_grad_(), b = f64({10, 20, 30, 40}, {4}).requires_grad_();
  const Tensor mask = gt(f64({1, 0, -1, 2}, {4}), 0);  // a comparison's mask
  const Tensor y = where(mask, a, b);
  EXPECT_TRUE(values_are(y, {1, 20, 30, 4}, 0));
  constexpr double kInf = std::numeric_limits<double>::infinity();
  y.backward(f64({kInf, 1, 1, 1}, {4}));
  // The inf upstream gradient reaches a where chosen and leaves b's 0, not NaN.
  EXPECT_TRUE(values_are(a.grad(), {kInf, 0, 0, 1}, 0));
  EXPECT_TRUE(values_are(b.grad(), {0, 1, 1, 0}, 0));
  // Broadcasting, an int64 condition, scalars, -0 kept.
  EXPECT_TRUE(values_are(where(i64({1, 0}, {2, 1}), f64({1, 2}, {2}), 0.0), {1, 2, 0, 0}, 0));
  EXPECT_TRUE(std::signbit(where(i64({1}, {1}), f64({-0.0}, {1}), 5.0).item<double>()));
  const Tensor filled = masked_fill(f64({1, 2, 3, 4}, {2, 2}), f64({1, 0}, {2}), -1.5);
  EXPECT_TRUE(values_are(filled, {-1.5, 2, -1.5, 4}, 0));
  const Tensor x = f64({1, 2}, {2}).requires_grad_();
  masked_fill(x, f64({0, 1}, {2}), 0.0).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {1, 0}, 0));
  EXPECT_TRUE(values_are(masked_fill(f64({1}, {1}), f64({1, 0}, {2}), 0.0), {0, 1}, 0));  // broadcast, as PyTorch
  EXPECT_TRUE(throws_error_with(
      [&] {
        masked_fill(f64({1, 2}, {2}), f64({1, 0, 1}, {3}), 0.0);
      },
      {"masked_fill", "[2]", "[3]"}));
  // An empty index of any rank gathers nothing (PyTorch's rule), also backward.
  const Tensor v = f64({1, 2}, {2}).requires_grad_();
  const Tensor none = gather(v, 0, i64({}, {1, 0}));
  EXPECT_EQ(none.shape(), (Shape{1, 0}));
  none.sum().backward();
  EXPECT_TRUE(values_are(v.grad(), {0, 0}, 0));
  EXPECT_TRUE(throws_error_with([&] { where(mask, a, ones({4}, options(kFloat32))); }, {"where", "float32"}));
  EXPECT_TRUE(throws_error_with([&] { masked_fill(i64({1}, {1}), i64({1}, {1}), 0.5); }, {"masked_fill", "int64"}));
}

TEST_P(IndexingTest, CatStackSplitChunk) {
  const Tensor a = f64({1, 2, 3, 4}, {2, 2}).requires_grad_(), b = f64({5, 6}, {1, 2}).requires_grad_();
  const Tensor rows = cat({a, b}, 0);
  EXPECT_EQ(rows.shape(), (Shape{3, 2}));
  EXPECT_TRUE(values_are(rows, {1, 2, 3, 4, 5, 6}, 0));
  rows.backward(f64({1, 2, 3, 4, 5, 6}, {3, 2}));
  EXPECT_TRUE(values_are(a.grad(), {1, 2, 3, 4}, 0));
  EXPECT_TRUE(values_are(b.grad(), {5, 6}, 0));
  EXPECT_TRUE(values_are(cat({a.detach(), a.detach()}, -1), {1, 2, 1, 2, 3, 4, 3, 4}, 0));
  EXPECT_EQ(cat({a.detach(), zeros({0, 2}, options(kFloat64))}).shape(), (Shape{2, 2}));
  const Tensor s = stack({a.detach(), a.detach() * 2}, 1);
  EXPECT_EQ(s.shape(), (Shape{2, 2, 2}));
  EXPECT_TRUE(values_are(s, {1, 2, 2, 4, 3, 4, 6, 8}, 0));
  const Tensor v = arange(0, 7, 1, options(kFloat64)).requires_grad_();
  const std::vector<Tensor> parts = split(v, 3);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_TRUE(values_are(parts[2], {6}, 0));
  (parts[0].sum() + parts[2].sum() * 2).backward();
  EXPECT_TRUE(values_are(v.grad(), {1, 1, 1, 0, 0, 0, 2}, 0));
  const std::vector<Tensor> chunks = chunk(v.detach(), 3);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].numel(), 3);
  EXPECT_EQ(chunk(arange(0, 4, 1, options(kFloat64)), 3).size(), 2u);  // ceil(4/3) = 2 per chunk, as in PyTorch
  EXPECT_TRUE(throws_error_with([&] { cat({a, b}, 1); }, {"cat", "tensor 1", "does not match tensor 0"}));
  EXPECT_TRUE(throws_error_with([&] { cat({}, 0); }, {"cat", "non-empty"}));
  EXPECT_TRUE(throws_error_with([&] { stack({a, b}); }, {"stack", "equal size", "entry 1"}));
  EXPECT_TRUE(throws_error_with([&] { split(v, 0); }, {"split", "positive"}));
  EXPECT_TRUE(throws_error_with([&] { chunk(v, 0); }, {"chunk", "positive"}));
}

TEST_P(IndexingTest, RandomIntegersAndMasks) {
  Generator gen(7);
  const std::vector<std::int64_t> perm = randperm(1000, gen, options(kInt64)).cpu().to_vector<std::int64_t>();
  std::vector<std::int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (std::int64_t i = 0; i < 1000; ++i) ASSERT_EQ(sorted[i], i);
  EXPECT_NE(perm, sorted);  // shuffled
  const std::vector<std::int64_t> r = randint(-3, 4, {10000}, gen, options(kInt64)).cpu().to_vector<std::int64_t>();
  EXPECT_EQ(*std::min_element(r.begin(), r.end()), -3);
  EXPECT_EQ(*std::max_element(r.begin(), r.end()), 3);
  // Same seed, same draws on every device.
  Generator g1(3), g2(3);
  EXPECT_EQ(randint(0, 100, {50}, g1, options(kInt64)).cpu().to_vector<std::int64_t>(),
            randint(0, 100, {50}, g2, TensorOptions(kInt64)).to_vector<std::int64_t>());
  const Tensor mask = bernoulli({20000}, 0.3, gen, options(kFloat32));
  const double rate = mean(mask).item<double>();
  EXPECT_NEAR(rate, 0.3, 0.02);
  EXPECT_TRUE(values_are(bernoulli(f64({0, 1, 0, 1}, {4}), gen), {0, 1, 0, 1}, 0));
  EXPECT_TRUE(throws_error_with([&] { bernoulli(f64({1.5}, {1}), gen); }, {"bernoulli", "[0, 1]", "1.5"}));
  EXPECT_TRUE(throws_error_with([&] { randint(3, 3, {1}, gen); }, {"randint", "low < high"}));
  EXPECT_TRUE(throws_error_with([&] { randperm(-1, gen); }, {"randperm", "non-negative"}));
}

// Found by difftest under UBSan: the lowest int64 used to be negated on the host (to take a min
// as −max(−x)), which is undefined; one_hot now takes min directly.
TEST_P(IndexingTest, OneHotNamesOutOfRangeClassesIncludingTheLowestInt64) {
  EXPECT_TRUE(values_are(one_hot(i64({2, 0}, {2}), 3, kFloat64), {0, 0, 1, 1, 0, 0}, 0));
  const std::int64_t lowest = std::numeric_limits<std::int64_t>::lowest();
  EXPECT_TRUE(throws_error_with(
      [&] {
        one_hot(i64({lowest, 1}, {2}), 2);
      },
      {"one_hot", "[0, 2)", "[-9223372036854775808, 1]"}));
  EXPECT_TRUE(throws_error_with([&] { one_hot(i64({0, 2}, {2}), 2); }, {"one_hot", "[0, 2]"}));
}

INSTANTIATE_TEST_SUITE_P(Devices, IndexingTest, ::testing::ValuesIn(test_devices()), device_param_name);

}  // namespace
}  // namespace nudge::testing

// Views share storage and index the same elements PyTorch's would.
#include "test_util.h"

namespace nudge::testing {
namespace {

class ViewTest : public DeviceTest {
 protected:
  Tensor grid() const { return arange(12, options(kInt64)).view({3, 4}); }  // [[0..3],[4..7],[8..11]]
};

TEST_P(ViewTest, ViewAndReshapeShareStorage) {
  const Tensor g = grid();
  const Tensor v = g.view({4, -1});
  EXPECT_EQ(v.shape(), (Shape{4, 3}));
  EXPECT_EQ(v.storage(), g.storage());
  EXPECT_EQ(g.reshape({12}).storage(), g.storage());
  EXPECT_EQ(g.flatten().shape(), (Shape{12}));
  // A transposed tensor cannot be flattened by a view; reshape copies.
  const Tensor r = g.t().reshape({12});
  EXPECT_NE(r.storage(), g.storage());
  EXPECT_TRUE(values_are(r, {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  // ...but splitting a dim of a transposed tensor is still a view.
  const Tensor split = g.t().view({2, 2, 3});
  EXPECT_EQ(split.storage(), g.storage());
  EXPECT_TRUE(values_are(split, {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
}

TEST_P(ViewTest, TransposePermuteAndContiguous) {
  const Tensor g = grid();
  const Tensor t = g.transpose(0, 1);
  EXPECT_EQ(t.shape(), (Shape{4, 3}));
  EXPECT_EQ(t.strides(), (Strides{1, 4}));
  EXPECT_FALSE(t.is_contiguous());
  const Tensor c = t.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_TRUE(values_are(c, {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  EXPECT_EQ(g.contiguous().storage(), g.storage()) << "contiguous() of a contiguous tensor must not copy";
  const Tensor p = arange(24, options(kInt64)).view({2, 3, 4}).permute({2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(p.strides(), (Strides{1, 12, 4}));
  EXPECT_EQ(p.contiguous().to_vector<std::int64_t>()[1], 4);
}

TEST_P(ViewTest, SliceNarrowSelect) {
  const Tensor g = grid();
  EXPECT_TRUE(values_are(g.slice(1, 1, 3), {1, 2, 5, 6, 9, 10}));
  EXPECT_TRUE(values_are(g.slice(1, 0, 4, 2), {0, 2, 4, 6, 8, 10}));
  EXPECT_TRUE(values_are(g.slice(0, -1, 100), {8, 9, 10, 11}));  // clamped, negative from the end
  EXPECT_TRUE(values_are(g.narrow(0, 1, 2), {4, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_TRUE(values_are(g.select(1, -1), {3, 7, 11}));
  EXPECT_EQ(g.select(0, 2).storage_offset(), 8);
  // Writing through a view writes the base tensor.
  Tensor base = zeros({3, 4}, options());
  base.slice(1, 1, 3).fill_(1);
  EXPECT_TRUE(values_are(base, {0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0}));
}

TEST_P(ViewTest, UnsqueezeSqueezeExpand) {
  const Tensor v = arange(3, options(kInt64));
  EXPECT_EQ(v.unsqueeze(0).shape(), (Shape{1, 3}));
  EXPECT_EQ(v.unsqueeze(-1).shape(), (Shape{3, 1}));
  EXPECT_EQ(v.unsqueeze(1).unsqueeze(0).squeeze().shape(), (Shape{3}));
  EXPECT_EQ(v.unsqueeze(0).squeeze(0).shape(), (Shape{3}));
  EXPECT_EQ(v.squeeze(0).shape(), (Shape{3})) << "squeezing a dim that is not 1 is a no-op";
  const Tensor e = v.unsqueeze(1).expand({3, 4});
  EXPECT_EQ(e.strides(), (Strides{1, 0}));
  EXPECT_EQ(e.storage(), v.storage());
  EXPECT_TRUE(values_are(e, {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}));
  EXPECT_EQ(v.expand({2, -1}).shape(), (Shape{2, 3}));
}

TEST_P(ViewTest, OpsReadNonContiguousViews) {
  const Tensor g = grid().to(kFloat64);
  EXPECT_TRUE(values_are(g.t() + 1, {1, 5, 9, 2, 6, 10, 3, 7, 11, 4, 8, 12}));
  EXPECT_TRUE(values_are(g.slice(1, 0, 4, 3) * g.slice(1, 1, 4, 2), {0, 9, 20, 49, 72, 121}));
  EXPECT_TRUE(values_are(sum(g.t(), 1), {12, 15, 18, 21}));
}

INSTANTIATE_TEST_SUITE_P(Devices, ViewTest, ::testing::ValuesIn(test_devices()), device_param_name);

}  // namespace
}  // namespace nudge::testing

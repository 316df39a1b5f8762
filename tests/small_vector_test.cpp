// SmallVector, the container of shapes and strides: std::vector's behaviour, inline or on the heap.
#include <numeric>

#include "core/small_vector.h"
#include "test_util.h"

namespace nudge::testing {
namespace {

using Small = SmallVector<std::int64_t, 4>;

std::vector<std::int64_t> as_vector(const Small& s) { return std::vector<std::int64_t>(s.begin(), s.end()); }

TEST(SmallVector, BehavesAsAVectorInlineAndOnTheHeap) {
  for (const int n : {0, 1, 4, 5, 9, 100}) {  // inline, at capacity, and grown past it
    SCOPED_TRACE(n);
    Small s;
    std::vector<std::int64_t> v;
    for (int i = 0; i < n; ++i) {
      s.push_back(i * 3);
      v.push_back(i * 3);
    }
    EXPECT_EQ(as_vector(s), v);
    EXPECT_EQ(s.size(), v.size());
    EXPECT_EQ(s.empty(), v.empty());
    s.insert(s.begin(), -1);
    v.insert(v.begin(), -1);
    s.insert(s.begin() + static_cast<std::ptrdiff_t>(s.size() / 2), 2, 7);
    v.insert(v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), 2, 7);
    s.insert(s.end(), {8, 9});
    v.insert(v.end(), {8, 9});
    EXPECT_EQ(as_vector(s), v);
    s.erase(s.begin() + 1);
    v.erase(v.begin() + 1);
    s.erase(s.begin(), s.begin() + 2);
    v.erase(v.begin(), v.begin() + 2);
    EXPECT_EQ(as_vector(s), v);
    // Copies and moves keep the elements and leave the source usable.
    Small copy = s, moved = std::move(copy);
    EXPECT_EQ(as_vector(moved), v);
    EXPECT_TRUE(copy.empty());
    copy = moved;
    copy.push_back(1);
    EXPECT_EQ(as_vector(moved), v) << "a copy is independent";
    s.resize(s.size() + 3, 5);
    v.resize(v.size() + 3, 5);
    s.resize(2);
    v.resize(2);
    EXPECT_EQ(as_vector(s), v);
  }
}

TEST(SmallVector, InsertingItsOwnElementsAndConvertingToVectors) {
  Small s{1, 2, 3, 4};  // full: the next insert grows it while reading its own elements
  s.insert(s.begin() + 1, s.begin(), s.end());
  EXPECT_EQ(as_vector(s), (std::vector<std::int64_t>{1, 1, 2, 3, 4, 2, 3, 4}));
  s.push_back(s[0]);
  EXPECT_EQ(s.back(), 1);
  s.assign(s.begin() + 2, s.begin() + 4);
  EXPECT_EQ(as_vector(s), (std::vector<std::int64_t>{2, 3}));
  const std::vector<std::int64_t> v = s;  // to and from std::vector
  const Small back = v;
  EXPECT_EQ(back, s);
  EXPECT_LT((Small{1, 2}), (Small{1, 3}));
  EXPECT_NE((Small{1, 2}), (Small{1, 2, 0}));
  EXPECT_EQ(std::accumulate(s.rbegin(), s.rend(), std::int64_t{0}), 5);
  EXPECT_THROW((void)s.at(2), std::out_of_range);
}

TEST(SmallVector, ShapesOfManyDimsStillWork) {
  const Shape shape(7, 2);  // more dims than a shape holds inline
  const Tensor t = arange(128).view(shape);
  EXPECT_EQ(t.numel(), 128);
  EXPECT_EQ(t.shape(), shape);
  EXPECT_TRUE(values_are(t.sum(), {127 * 64}));
  const Tensor p = t.permute({6, 5, 4, 3, 2, 1, 0}).contiguous();
  EXPECT_EQ(p.stride(0), 64);
  EXPECT_EQ(p.to_vector<std::int64_t>()[1], 64);  // element [1, 0, ..., 0] of the permuted tensor
}

// Copies move an inline buffer whole (core/small_vector.h): every pairing of inline and heap
// storage must still copy exactly the elements.
TEST(SmallVector, CopiesBetweenInlineAndHeapStorage) {
  const Small inline_src{1, 2}, heap_src{1, 2, 3, 4, 5, 6, 7};
  for (const Small* src : {&inline_src, &heap_src}) {
    for (const Small& start : {Small{9}, Small{9, 9, 9, 9, 9, 9, 9, 9, 9}}) {
      Small copy(start);
      copy = *src;
      EXPECT_EQ(as_vector(copy), as_vector(*src));
      Small constructed(*src);
      EXPECT_EQ(as_vector(constructed), as_vector(*src));
      Small moved(std::move(copy));
      EXPECT_EQ(as_vector(moved), as_vector(*src));
      EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): a moved-from SmallVector is empty
    }
  }
}

}  // namespace
}  // namespace nudge::testing

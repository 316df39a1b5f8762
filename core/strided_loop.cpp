#include "core/strided_loop.h"

#include <algorithm>
#include <utility>
#include <vector>

// core reaches the backends only through the dispatch tables and the plain-data calls.
using namespace nudge::kernels;  // NOLINT(google-build-using-namespace)

namespace nudge::detail {

Strides broadcast_strides(const Tensor& t, const Shape& shape) {
  const std::size_t n = shape.size(), lead = n - t.shape().size();
  Strides s(n, 0);
  for (std::size_t i = lead; i < n; ++i) {
    const std::int64_t size = t.shape()[i - lead];
    s[i] = size == 1 && shape[i] != 1 ? 0 : t.strides()[i - lead];
  }
  return s;
}

void check_writable(const Tensor& t, const char* op) {
  for (std::int64_t d = 0; d < t.dim(); ++d)
    NUDGE_CHECK(t.strides()[d] != 0 || t.shape()[d] <= 1, op, ": cannot write into an expanded ", describe(t),
                " (strides ", shape_str(t.strides()), "); call .contiguous() or .clone() first");
}

namespace {

/// Element offsets [first, last] that `t` touches (t is non-empty; nudge has no negative strides).
std::pair<std::int64_t, std::int64_t> element_span(const Tensor& t) {
  std::int64_t last = t.storage_offset();
  for (std::int64_t d = 0; d < t.dim(); ++d) last += (t.shape()[d] - 1) * t.strides()[d];
  return {t.storage_offset(), last};
}

/// Every element at its own address and no gaps: a permutation of a contiguous layout.
bool dense(const Tensor& t) {
  std::vector<std::pair<std::int64_t, std::int64_t>> dims;  // (stride, size), size-1 dims dropped
  for (std::int64_t d = 0; d < t.dim(); ++d)
    if (t.shape()[d] != 1) dims.emplace_back(t.strides()[d], t.shape()[d]);
  std::sort(dims.begin(), dims.end());
  std::int64_t expected = 1;
  for (const auto& [stride, size] : dims) {
    if (stride != expected) return false;
    expected *= size;
  }
  return true;
}

}  // namespace

Tensor inplace_source(const Tensor& self, const Tensor& source, const char* op) {
  if (source.storage() != self.storage() || self.numel() == 0 || source.numel() == 0) return source;
  if (source.storage_offset() == self.storage_offset() && source.shape() == self.shape() &&
      source.strides() == self.strides())
    return source;
  const auto [self_first, self_last] = element_span(self);
  const auto [source_first, source_last] = element_span(source);
  if (source_last < self_first || self_last < source_first) return source;
  NUDGE_CHECK(!(dense(self) && dense(source)), op, ": some elements of the input ", describe(source),
              " and the written-to ", describe(self),
              " refer to a single memory location, so an element would be read after being overwritten; clone() the "
              "input first (as PyTorch asks)");
  return source.clone();
}

namespace {

/// Stride of `t` along dim `d` of `shape` when broadcast to it (0 on a broadcast dim).
std::int64_t broadcast_stride(const Tensor& t, const Shape& shape, std::size_t d) {
  const std::size_t lead = shape.size() - t.shape().size();
  if (d < lead) return 0;
  return t.shape()[d - lead] == 1 && shape[d] != 1 ? 0 : t.strides()[d - lead];
}

/// True when `t` has exactly `shape` in row-major order with no gaps.
bool contiguous_at(const Tensor& t, const Shape& shape) { return t.shape() == shape && t.is_contiguous(); }

}  // namespace

// On the hot path of every elementwise op: no heap allocation (a 4-element add is all overhead).
template <int N>
StridedLoop<N> make_strided_loop(const Shape& shape, const std::array<const Tensor*, N>& operands, const char* op) {
  StridedLoop<N> loop;
  // Usually the output has `shape` and knows its count (gather/scatter walk the index's shape).
  loop.numel = operands[0]->shape() == shape ? operands[0]->numel() : numel_of(shape);
  for (int k = 0; k < N; ++k) loop.data[k] = operands[k]->data_ptr();
  bool all_contiguous = true;
  for (int k = 0; k < N && all_contiguous; ++k) all_contiguous = contiguous_at(*operands[k], shape);
  if (all_contiguous) {  // the common case: one dense dim
    loop.ndim = loop.numel == 1 ? 0 : 1;
    loop.contiguous = true;
    if (loop.ndim == 1) {
      loop.sizes[0] = loop.numel;
      for (int k = 0; k < N; ++k) loop.strides[k][0] = 1;
    }
    return loop;
  }
  // Collect dims outermost-first, dropping size-1 dims and merging a dim into the previous one
  // when every operand steps through both as if they were one.
  int ndim = 0;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool mergeable = ndim > 0;
    for (int k = 0; k < N && mergeable; ++k)
      mergeable = loop.strides[k][ndim - 1] == broadcast_stride(*operands[k], shape, d) * shape[d];
    if (mergeable) {
      loop.sizes[ndim - 1] *= shape[d];
      for (int k = 0; k < N; ++k) loop.strides[k][ndim - 1] = broadcast_stride(*operands[k], shape, d);
      continue;
    }
    NUDGE_CHECK(ndim < kMaxDims, op, ": tensors of shape ", shape_str(shape), " need more than ", kMaxDims,
                " strided dims; at most ", kMaxDims, " are supported (call .contiguous() first)");
    loop.sizes[ndim] = shape[d];
    for (int k = 0; k < N; ++k) loop.strides[k][ndim] = broadcast_stride(*operands[k], shape, d);
    ++ndim;
  }
  loop.ndim = ndim;
  loop.contiguous = ndim <= 1;
  for (int k = 0; k < N && ndim == 1; ++k) loop.contiguous = loop.contiguous && loop.strides[k][0] == 1;
  return loop;
}

template StridedLoop<1> make_strided_loop<1>(const Shape&, const std::array<const Tensor*, 1>&, const char*);
template StridedLoop<2> make_strided_loop<2>(const Shape&, const std::array<const Tensor*, 2>&, const char*);
template StridedLoop<3> make_strided_loop<3>(const Shape&, const std::array<const Tensor*, 3>&, const char*);
template StridedLoop<4> make_strided_loop<4>(const Shape&, const std::array<const Tensor*, 4>&, const char*);

}  // namespace nudge::detail

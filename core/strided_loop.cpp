#include "core/strided_loop.h"

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

template <int N>
StridedLoop<N> make_strided_loop(const Shape& shape, const std::array<const Tensor*, N>& operands, const char* op) {
  StridedLoop<N> loop;
  loop.numel = numel_of(shape);
  std::array<Strides, N> strides;
  for (int k = 0; k < N; ++k) {
    strides[k] = broadcast_strides(*operands[k], shape);
    loop.data[k] = operands[k]->data_ptr();
  }
  // Collect dims outermost-first, dropping size-1 dims and merging a dim into the previous one
  // when every operand steps through both as if they were one.
  std::vector<std::int64_t> sizes;
  std::array<std::vector<std::int64_t>, N> merged;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool mergeable = !sizes.empty();
    for (int k = 0; k < N && mergeable; ++k) mergeable = merged[k].back() == strides[k][d] * shape[d];
    if (mergeable) {
      sizes.back() *= shape[d];
      for (int k = 0; k < N; ++k) merged[k].back() = strides[k][d];
    } else {
      sizes.push_back(shape[d]);
      for (int k = 0; k < N; ++k) merged[k].push_back(strides[k][d]);
    }
  }
  NUDGE_CHECK(sizes.size() <= static_cast<std::size_t>(kMaxDims), op, ": tensors of shape ", shape_str(shape),
              " need ", sizes.size(), " strided dims; at most ", kMaxDims, " are supported (call .contiguous() first)");
  loop.ndim = static_cast<int>(sizes.size());
  loop.contiguous = true;
  for (int d = 0; d < loop.ndim; ++d) {
    loop.sizes[d] = sizes[d];
    for (int k = 0; k < N; ++k) loop.strides[k][d] = merged[k][d];
  }
  if (loop.ndim > 1) loop.contiguous = false;
  for (int k = 0; k < N && loop.ndim == 1; ++k) loop.contiguous = loop.contiguous && merged[k][0] == 1;
  return loop;
}

template StridedLoop<1> make_strided_loop<1>(const Shape&, const std::array<const Tensor*, 1>&, const char*);
template StridedLoop<2> make_strided_loop<2>(const Shape&, const std::array<const Tensor*, 2>&, const char*);
template StridedLoop<3> make_strided_loop<3>(const Shape&, const std::array<const Tensor*, 3>&, const char*);

}  // namespace nudge::detail

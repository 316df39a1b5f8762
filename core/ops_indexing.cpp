// Joining, splitting and indexing: cat/stack/split/chunk (views and copies, no kernels of their
// own), gather/scatter_add (one IndexCall kernel pair; index_select and Embedding are gathers with
// an expanded index), and where/masked_fill (one WhereCall kernel).
#include <algorithm>

#include "core/autograd/node.h"
#include "core/factory.h"
#include "core/ops.h"
#include "core/ops_checks.h"
#include "core/strided_loop.h"
#include "kernels/dispatch.h"

// core reaches the backends only through the dispatch tables and the plain-data calls.
using namespace nudge::kernels;  // NOLINT(google-build-using-namespace)

namespace nudge {

using autograd::Grads;
using autograd::SavedTensor;

namespace {

void check_index_tensor(const Tensor& x, const Tensor& index, const char* op) {
  detail::check_defined(x, op);
  detail::check_defined(index, op);
  NUDGE_CHECK(index.dtype() == kInt64, op, ": expected an int64 index, got a ", describe(index));
  NUDGE_CHECK(index.device() == x.device(), op, ": the index ", describe(index), " and the input ", describe(x),
              " are on different devices");
}

/// Throws unless every index lies in [0, size): a min and a max reduction read back together (on a
/// GPU, one synchronisation; PyTorch's device-side assert would instead poison the context). The
/// reductions run over the index's own elements: dims it is broadcast along (stride 0, as
/// index_select's 1-d index over an Embedding's rows) are seen as size 1, so a [B] index expanded
/// to [B, D] costs B reads, not a dense B·D copy.
void check_index_range(const Tensor& index, std::int64_t size, std::int64_t dim, const char* op) {
  if (index.numel() == 0) return;
  NoGradGuard no_grad;
  Shape own = index.shape();
  for (std::int64_t d = 0; d < index.dim(); ++d)
    if (index.stride(d) == 0) own[d] = 1;
  const Tensor elements = make_tensor(index.storage(), own, index.strides(), index.storage_offset(), index.dtype());
  const std::vector<std::int64_t> bounds = stack({min(elements), max(elements)}).to_vector<std::int64_t>();
  const std::int64_t lo = bounds[0], hi = bounds[1];
  NUDGE_CHECK(lo >= 0 && hi < size, op, ": index ", lo < 0 ? lo : hi, " is out of bounds for dim ", dim, " of size ",
              size);
}

/// `t` seen with `shape` (no larger than t's in any dim) and t's strides, except stride 0 along
/// `dim`: the operand whose element offset the kernel completes with index·stride(dim).
Tensor dim_view(const Tensor& t, const Shape& shape, std::int64_t dim) {
  Strides strides = t.strides();
  strides[dim] = 0;
  return make_tensor(t.storage(), shape, strides, t.storage_offset(), t.dtype());
}

/// The shapes gather and scatter_add accept: same number of dims, the index no larger than
/// `other` outside `dim` (and, for scatter_add's source, no larger anywhere).
void check_index_shape(const Tensor& index, const Tensor& other, std::int64_t dim, bool including_dim, const char* op,
                       const char* what) {
  NUDGE_CHECK(index.dim() == other.dim(), op, ": the index ", describe(index), " and ", what, " ", describe(other),
              " must have the same number of dims");
  for (std::int64_t d = 0; d < index.dim(); ++d)
    NUDGE_CHECK((d == dim && !including_dim) || index.size(d) <= other.size(d), op, ": the index ", describe(index),
                " is larger than ", what, " ", describe(other), " in dim ", d);
}

void run_index(IndexOp op, Tensor& target, const Tensor& index, const Tensor& other, std::int64_t dim_stride,
               const char* name) {
  if (index.numel() == 0) return;
  IndexCall call{op, target.dtype(), dim_stride,
                 detail::make_strided_loop<3>(index.shape(), {&target, &index, &other}, name)};
  dispatch::index.run(target.device(), name, call);
}

}  // namespace

// ---- gather / scatter_add ------------------------------------------------------------------

namespace {

/// Whether scatter_add checks its index's range (gather's backward reuses an index already checked).
enum class IndexRange { Check, KnownValid };

Tensor scatter_add_impl(const Tensor& self, std::int64_t dim, const Tensor& index, const Tensor& src, IndexRange range);

/// gather for an op (gather itself or index_select) whose messages carry `name`.
Tensor gather_as(const Tensor& x, std::int64_t dim, const Tensor& index, const char* name) {
  check_index_tensor(x, index, name);
  if (x.dim() == 0) return gather_as(x.reshape({1}), dim, index.reshape({-1}), name).reshape(index.shape());
  const std::int64_t d = wrap_dim(dim, x.dim(), name);
  // An empty index gives an empty result whatever its rank (PyTorch's rule).
  if (index.numel() > 0) check_index_shape(index, x, d, false, name, "input");
  Tensor out = empty(index.shape(), TensorOptions(x.dtype()).device(x.device()));
  if (index.numel() > 0) {
    check_index_range(index, x.size(d), d, name);
    run_index(IndexOp::Gather, out, index, dim_view(x, index.shape(), d), x.stride(d), name);
  }
  // The backward needs no range check: the forward checked this index, and SavedTensor refuses it
  // if it was changed in place since (no second host synchronisation per backward).
  NUDGE_RECORD("gather", out, (&x), [index_ = SavedTensor(index, "gather"), shape = x.shape(), d](const Tensor& g) {
    return Grads{scatter_add_impl(zeros(shape, TensorOptions(g.dtype()).device(g.device())), d, index_.get(), g,
                                  IndexRange::KnownValid)};
  });
  return out;
}

}  // namespace

Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index) { return gather_as(x, dim, index, "gather"); }

Tensor scatter_add(const Tensor& self, std::int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_add_impl(self, dim, index, src, IndexRange::Check);
}

namespace {

Tensor scatter_add_impl(const Tensor& self, std::int64_t dim, const Tensor& index, const Tensor& src,
                        IndexRange range) {
  check_index_tensor(self, index, "scatter_add");
  detail::check_same_device_and_dtype(self, src, "scatter_add");
  detail::check_numeric(self, "scatter_add");
  if (self.dim() == 0)
    return scatter_add_impl(self.reshape({1}), dim, index.reshape({-1}), src.reshape({-1}), range).reshape({});
  const std::int64_t d = wrap_dim(dim, self.dim(), "scatter_add");
  if (index.numel() > 0) {  // an empty index adds nothing, whatever its rank (PyTorch's rule)
    check_index_shape(index, self, d, false, "scatter_add", "self");
    check_index_shape(index, src, d, true, "scatter_add", "src");
  }
  Tensor out;
  {
    NoGradGuard no_grad;
    out = self.clone();
  }
  if (index.numel() > 0) {
    if (range == IndexRange::Check) check_index_range(index, self.size(d), d, "scatter_add");
    const Tensor source = make_tensor(src.storage(), index.shape(), src.strides(), src.storage_offset(), src.dtype());
    Tensor target = dim_view(out, index.shape(), d);
    run_index(IndexOp::ScatterAdd, target, index, source, out.stride(d), "scatter_add");
  }
  NUDGE_RECORD("scatter_add", out, (&self, &src),
               [index_ = SavedTensor(index, "scatter_add"), src_shape = src.shape(), d](const Tensor& g) {
                 const Tensor& idx = index_.get();
                 if (idx.numel() == 0) return Grads{g, zeros(src_shape, TensorOptions(g.dtype()).device(g.device()))};
                 Tensor grad_src = gather(g, d, idx);
                 if (grad_src.shape() != src_shape) {  // the index covered only the front block of src
                   Tensor padded = zeros(src_shape, TensorOptions(g.dtype()).device(g.device()));
                   make_tensor(padded.storage(), idx.shape(), padded.strides(), 0, padded.dtype()).copy_(grad_src);
                   grad_src = padded;
                 }
                 return Grads{g, grad_src};
               });
  return out;
}

}  // namespace

Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index) {
  check_index_tensor(x, index, "index_select");
  NUDGE_CHECK(index.dim() <= 1, "index_select: the index must be 0-d or 1-d, got a ", describe(index));
  if (x.dim() == 0) return index_select(x.reshape({1}), dim, index).reshape({});
  const std::int64_t d = wrap_dim(dim, x.dim(), "index_select");
  Shape out_shape = x.shape(), index_shape(x.dim(), 1);
  out_shape[d] = index_shape[d] = index.numel();
  // A gather whose index is the 1-d index broadcast (stride 0) over every other dim.
  return gather_as(x, d, index.reshape(index_shape).expand(out_shape), "index_select");
}

// ---- where / masked_fill -------------------------------------------------------------------

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  detail::check_defined(condition, "where");
  detail::check_same_device_and_dtype(a, b, "where");
  NUDGE_CHECK(condition.device() == a.device(), "where: the condition ", describe(condition), " and the values ",
              describe(a), " are on different devices");
  const Shape shape = broadcast_shapes(broadcast_shapes(condition.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = empty(shape, TensorOptions(a.dtype()).device(a.device()));
  if (out.numel() > 0) {
    WhereCall call{a.dtype(), condition.dtype(),
                   detail::make_strided_loop<4>(shape, {&out, &condition, &a, &b}, "where")};
    dispatch::where.run(out.device(), "where", call);
  }
  // Each side gets the gradient where it was chosen and 0 elsewhere (selected, so an inf
  // gradient never turns into NaN on the other side).
  NUDGE_RECORD("where", out, (&a, &b), [cond_ = SavedTensor(condition, "where")](const Tensor& g) {
    const Tensor zero = zeros({}, TensorOptions(g.dtype()).device(g.device()));
    return Grads{where(cond_.get(), g, zero), where(cond_.get(), zero, g)};
  });
  return out;
}

Tensor where(const Tensor& condition, const Tensor& a, Scalar b) {
  detail::check_defined(a, "where");
  return where(condition, a, full({}, b, TensorOptions(a.dtype()).device(a.device())));
}

Tensor where(const Tensor& condition, Scalar a, const Tensor& b) {
  detail::check_defined(b, "where");
  return where(condition, full({}, a, TensorOptions(b.dtype()).device(b.device())), b);
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value) {
  detail::check_defined(x, "masked_fill");
  detail::check_defined(mask, "masked_fill");
  broadcast_shapes(x.shape(), mask.shape(), "masked_fill");  // the error names this op
  NUDGE_CHECK(x.dtype() != kInt64 || value.is_integral(), "masked_fill: an int64 tensor cannot take the value ",
              value.to_double(), " (nudge does not promote dtypes)");
  return where(mask, full({}, value, TensorOptions(x.dtype()).device(x.device())), x);
}

// ---- cat / stack / split / chunk ------------------------------------------------------------

Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim) {
  NUDGE_CHECK(!tensors.empty(), "cat: expected a non-empty list of tensors");
  for (const Tensor& t : tensors) detail::check_defined(t, "cat");
  const Tensor& first = tensors.front();
  NUDGE_CHECK(first.dim() > 0, "cat: zero-dimensional tensor (", describe(first), ") cannot be concatenated");
  const std::int64_t d = wrap_dim(dim, first.dim(), "cat");
  Shape shape = first.shape();
  shape[d] = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    detail::check_same_device_and_dtype(first, t, "cat");
    bool fits = t.dim() == first.dim();
    for (std::int64_t k = 0; fits && k < t.dim(); ++k) fits = k == d || t.size(k) == first.size(k);
    NUDGE_CHECK(fits, "cat: tensor ", i, " (", describe(t), ") does not match tensor 0 (", describe(first),
                ") outside dim ", d);
    shape[d] += t.size(d);
  }
  Tensor out = empty(shape, TensorOptions(first.dtype()).device(first.device()));
  std::vector<std::int64_t> sizes;
  {
    NoGradGuard no_grad;  // the copies are this op's forward; its node is recorded below
    std::int64_t offset = 0;
    for (const Tensor& t : tensors) {
      sizes.push_back(t.size(d));
      if (t.numel() > 0) out.narrow(d, offset, t.size(d)).copy_(t);
      offset += t.size(d);
    }
  }
  std::vector<const Tensor*> inputs;
  for (const Tensor& t : tensors) inputs.push_back(&t);
  if (autograd::needs_grad(inputs))
    autograd::record(autograd::Node::StaticName{"cat"}, out, inputs, [sizes, d](const Tensor& g) {
      Grads grads;
      std::int64_t offset = 0;
      for (const std::int64_t n : sizes) {
        grads.push_back(g.narrow(d, offset, n));
        offset += n;
      }
      return grads;
    });
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim) {
  NUDGE_CHECK(!tensors.empty(), "stack: expected a non-empty list of tensors");
  const std::int64_t d = wrap_dim(dim, tensors.front().dim() + 1, "stack");
  std::vector<Tensor> unsqueezed;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    detail::check_defined(tensors[i], "stack");
    NUDGE_CHECK(tensors[i].shape() == tensors.front().shape(), "stack: expects each tensor to be equal size, but got ",
                describe(tensors.front()), " at entry 0 and ", describe(tensors[i]), " at entry ", i);
    unsqueezed.push_back(tensors[i].unsqueeze(d));
  }
  return cat(unsqueezed, d);
}

std::vector<Tensor> split(const Tensor& x, std::int64_t split_size, std::int64_t dim) {
  detail::check_defined(x, "split");
  NUDGE_CHECK(x.dim() > 0, "split: cannot split a 0-dim tensor (", describe(x), ")");
  const std::int64_t d = wrap_dim(dim, x.dim(), "split");
  const std::int64_t n = x.size(d);
  NUDGE_CHECK(split_size > 0 || (split_size == 0 && n == 0), "split: split_size must be positive, got ", split_size,
              " for dim ", d, " of size ", n);
  if (n == 0) return {x.narrow(d, 0, 0)};
  std::vector<Tensor> parts;
  for (std::int64_t start = 0; start < n; start += split_size)
    parts.push_back(x.narrow(d, start, std::min(split_size, n - start)));
  return parts;
}

std::vector<Tensor> chunk(const Tensor& x, std::int64_t chunks, std::int64_t dim) {
  detail::check_defined(x, "chunk");
  NUDGE_CHECK(chunks > 0, "chunk: expected a positive number of chunks, got ", chunks);
  NUDGE_CHECK(x.dim() > 0, "chunk: cannot chunk a 0-dim tensor (", describe(x), ")");
  const std::int64_t n = x.size(wrap_dim(dim, x.dim(), "chunk"));
  return split(x, (n + chunks - 1) / chunks, dim);
}

Tensor Tensor::operator[](std::int64_t index) const { return select(0, index); }

}  // namespace nudge

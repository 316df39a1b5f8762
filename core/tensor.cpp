#include "core/tensor.h"

#include <cmath>

#include <algorithm>
#include <cstring>
#include <functional>
#include <numeric>
#include <optional>

#include "core/autograd/node.h"
#include "kernels/dispatch.h"
#include "core/factory.h"
#include "core/ops.h"
#include "core/ops_checks.h"
#include "core/small_blocks.h"
#include "core/strided_loop.h"

// core reaches the backends only through the dispatch tables and the plain-data calls.
using namespace nudge::kernels;  // NOLINT(google-build-using-namespace)

namespace nudge {

// ---- construction and metadata -----------------------------------------------------------

void TensorImpl::set_geometry(Shape shape, Strides strides, std::int64_t offset) {
  NUDGE_CHECK(shape.size() == strides.size(), "tensor geometry: shape ", shape_str(shape), " and strides ",
              shape_str(strides), " differ in rank");
  numel_ = numel_of(shape);
  std::int64_t expected = 1;
  contiguous_ = true;
  for (auto i = shape.size(); i-- > 0;) {
    if (shape[i] == 1) continue;
    if (strides[i] != expected) {
      contiguous_ = numel_ == 0;
      break;
    }
    expected *= shape[i];
  }
  shape_ = std::move(shape);
  strides_ = std::move(strides);
  offset_ = offset;
}

void TensorImpl::set_contiguous_geometry(Shape shape, Strides strides, std::int64_t numel) {
  shape_ = std::move(shape);
  strides_ = std::move(strides);
  offset_ = 0;
  numel_ = numel;
  contiguous_ = true;
}

void detail::throw_undefined_tensor() { NUDGE_FAIL("use of an undefined tensor (default-constructed Tensor)"); }

Tensor make_tensor(std::shared_ptr<Storage> storage, Shape shape, Strides strides, std::int64_t offset, DType dtype) {
  auto impl = small_blocks::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->set_geometry(std::move(shape), std::move(strides), offset);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor empty(Shape shape, TensorOptions options) {
  for (auto s : shape) NUDGE_CHECK(s >= 0, "empty: negative size in shape ", shape_str(shape));
  std::int64_t numel = 0;
  Strides strides = contiguous_strides(shape, numel);
  std::int64_t nbytes = 0;
  NUDGE_CHECK(!__builtin_mul_overflow(numel, static_cast<std::int64_t>(itemsize(options.dtype())), &nbytes),
              "empty: ", shape_str(shape), " elements of ", dtype_name(options.dtype()),
              " need more bytes than an int64 can count");
  auto impl = small_blocks::make_shared<TensorImpl>();
  impl->storage = small_blocks::make_shared<Storage>(options.device(), static_cast<std::size_t>(nbytes));
  impl->set_contiguous_geometry(std::move(shape), std::move(strides), numel);
  impl->dtype = options.dtype();
  return Tensor(std::move(impl));
}

std::string describe(const Tensor& t) {
  if (!t.defined()) return "undefined tensor";
  return "tensor of shape " + shape_str(t.shape()) + ", " + std::string(dtype_name(t.dtype())) + ", " +
         t.device().str();
}

// ---- views --------------------------------------------------------------------------------
// Each view records how its gradient maps back onto the input's shape.

using autograd::Grads;
using autograd::record;

namespace {

/// The gradient of a view that picks some elements: zeros, with `g` written where they were.
Grads scatter_into_zeros(const Tensor& g, const Shape& shape, const std::function<Tensor(const Tensor&)>& pick) {
  Tensor full_grad = zeros(shape, TensorOptions(g.dtype()).device(g.device()));
  pick(full_grad).copy_(g);
  return {full_grad};
}

Tensor view_of(const Tensor& t, Shape shape, Strides strides, std::int64_t offset) {
  return make_tensor(t.storage(), std::move(shape), std::move(strides), offset, t.dtype());
}

/// Replaces one -1 in `shape` by the size that keeps `numel` elements.
Shape infer_size(Shape shape, std::int64_t numel, const char* op, const Tensor& t) {
  std::int64_t known = 1, infer_at = -1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      NUDGE_CHECK(infer_at < 0, op, ": only one dim may be -1, got ", shape_str(shape));
      infer_at = static_cast<std::int64_t>(i);
    } else {
      NUDGE_CHECK(shape[i] >= 0, op, ": invalid size ", shape[i], " in shape ", shape_str(shape));
      NUDGE_CHECK(!__builtin_mul_overflow(known, shape[i], &known), op, ": shape ", shape_str(shape),
                  " has more elements than an int64 can count");
    }
  }
  if (infer_at >= 0) {
    NUDGE_CHECK(known != 0 && numel % known == 0, op, ": shape ", shape_str(shape), " is invalid for a ", describe(t));
    shape[infer_at] = numel / known;
  }
  NUDGE_CHECK(numel_of(shape) == numel, op, ": shape ", shape_str(shape), " is invalid for a ", describe(t), " (",
              numel, " elements)");
  return shape;
}

/// Strides that let `new_shape` view the same elements as (old_shape, old_strides), or nothing
/// when no strides can (the old layout is not contiguous across the dims being merged).
/// This is PyTorch's computeStride: walk the old dims from the back in contiguous chunks.
std::optional<Strides> view_strides(const Shape& old_shape, const Strides& old_strides, const Shape& new_shape) {
  if (old_shape.empty() || numel_of(old_shape) == 0) return contiguous_strides(new_shape);
  Strides new_strides(new_shape.size());
  auto view_d = static_cast<std::int64_t>(new_shape.size()) - 1;
  std::int64_t chunk_base = old_strides.back(), tensor_numel = 1, view_numel = 1;
  for (auto d = static_cast<std::int64_t>(old_shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= old_shape[d];
    const bool chunk_ends = d == 0 || (old_shape[d - 1] != 1 && old_strides[d - 1] != tensor_numel * chunk_base);
    if (!chunk_ends) continue;
    while (view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d] == 1)) {
      new_strides[view_d] = view_numel * chunk_base;
      view_numel *= new_shape[view_d];
      --view_d;
    }
    if (view_numel != tensor_numel) return std::nullopt;
    if (d > 0) {
      chunk_base = old_strides[d - 1];
      tensor_numel = view_numel = 1;
    }
  }
  if (view_d != -1) return std::nullopt;
  return new_strides;
}

/// `t` seen with `shape` and `strides` that view_strides found (view and reshape share it).
Tensor recorded_view(const Tensor& t, Shape shape, Strides strides) {
  Tensor out = view_of(t, std::move(shape), std::move(strides), t.storage_offset());
  NUDGE_RECORD("view", out, (&t), [in = t.shape()](const Tensor& g) { return Grads{g.reshape(in)}; });
  return out;
}

}  // namespace

Tensor Tensor::view(Shape shape) const {
  shape = infer_size(std::move(shape), numel(), "view", *this);
  auto strides = view_strides(this->shape(), this->strides(), shape);
  NUDGE_CHECK(strides.has_value(), "view: shape ", shape_str(shape), " cannot view a ", describe(*this),
              " with strides ", shape_str(this->strides()), " without copying; use reshape() or contiguous() first");
  return recorded_view(*this, std::move(shape), std::move(*strides));
}

Tensor Tensor::reshape(Shape shape) const {
  shape = infer_size(std::move(shape), numel(), "reshape", *this);
  if (auto strides = view_strides(this->shape(), this->strides(), shape))
    return recorded_view(*this, std::move(shape), std::move(*strides));
  return contiguous().view(std::move(shape));
}

Tensor Tensor::transpose(std::int64_t dim0, std::int64_t dim1) const {
  dim0 = wrap_dim(dim0, dim(), "transpose");
  dim1 = wrap_dim(dim1, dim(), "transpose");
  Shape shape = this->shape();
  Strides strides = this->strides();
  if (dim() == 0) return *this;
  std::swap(shape[dim0], shape[dim1]);
  std::swap(strides[dim0], strides[dim1]);
  Tensor out = view_of(*this, std::move(shape), std::move(strides), storage_offset());
  NUDGE_RECORD("transpose", out, (this), [dim0, dim1](const Tensor& g) { return Grads{g.transpose(dim0, dim1)}; });
  return out;
}

Tensor Tensor::t() const {
  NUDGE_CHECK(dim() <= 2, "t: expects a tensor with at most 2 dims, got a ", describe(*this));
  return dim() < 2 ? *this : transpose(0, 1);
}

Tensor Tensor::permute(const std::vector<std::int64_t>& dims) const {
  NUDGE_CHECK(static_cast<std::int64_t>(dims.size()) == dim(), "permute: got ", dims.size(), " dims ", shape_str(dims),
              " for a ", describe(*this));
  Shape shape(dims.size());
  Strides strides(dims.size());
  std::vector<std::int64_t> inverse(dims.size(), -1);
  for (std::size_t i = 0; i < dims.size(); ++i) {
    const auto d = wrap_dim(dims[i], dim(), "permute");
    NUDGE_CHECK(inverse[d] < 0, "permute: dim ", d, " repeats in ", shape_str(dims));
    inverse[d] = static_cast<std::int64_t>(i);
    shape[i] = this->shape()[d];
    strides[i] = this->strides()[d];
  }
  Tensor out = view_of(*this, std::move(shape), std::move(strides), storage_offset());
  NUDGE_RECORD("permute", out, (this), [inverse](const Tensor& g) { return Grads{g.permute(inverse)}; });
  return out;
}

Tensor Tensor::slice(std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step) const {
  NUDGE_CHECK(this->dim() > 0, "slice: cannot be applied to a 0-dim tensor (", describe(*this), ")");
  dim = wrap_dim(dim, this->dim(), "slice");
  NUDGE_CHECK(step > 0, "slice: step must be positive, got ", step);
  const std::int64_t n = shape()[dim];
  // Python semantics: negative bounds count from the end; out-of-range bounds are clamped.
  auto clamp = [n](std::int64_t i) { return std::clamp<std::int64_t>(i < 0 ? i + n : i, 0, n); };
  start = clamp(start);
  end = std::max(clamp(end), start);
  Shape shape = this->shape();
  Strides strides = this->strides();
  shape[dim] = (end - start + step - 1) / step;
  const std::int64_t offset = storage_offset() + start * strides[dim];
  strides[dim] *= step;
  Tensor out = view_of(*this, std::move(shape), std::move(strides), offset);
  NUDGE_RECORD("slice", out, (this), [in = this->shape(), dim, start, end, step](const Tensor& g) {
    return scatter_into_zeros(g, in, [&](const Tensor& t) { return t.slice(dim, start, end, step); });
  });
  return out;
}

Tensor Tensor::narrow(std::int64_t dim, std::int64_t start, std::int64_t length) const {
  NUDGE_CHECK(this->dim() > 0, "narrow: cannot be applied to a 0-dim tensor (", describe(*this), ")");
  dim = wrap_dim(dim, this->dim(), "narrow");
  const std::int64_t n = shape()[dim];
  if (start < 0) start += std::max<std::int64_t>(n, 1);  // PyTorch wraps as if an empty dim had size 1
  if (n == 0 && start == 0 && length == 0) return slice(dim, 0, 0);
  NUDGE_CHECK(start >= 0 && length >= 0 && start + length <= n, "narrow: range [", start, ", ", start + length,
              ") is out of bounds for dim ", dim, " of size ", n, " in a ", describe(*this));
  return slice(dim, start, start + length);
}

Tensor Tensor::select(std::int64_t dim, std::int64_t index) const {
  NUDGE_CHECK(this->dim() > 0, "select: cannot be applied to a 0-dim tensor (", describe(*this), ")");
  dim = wrap_dim(dim, this->dim(), "select");
  const std::int64_t n = shape()[dim];
  NUDGE_CHECK(index >= -n && index < n, "select: index ", index, " is out of bounds for dim ", dim, " of size ", n,
              " in a ", describe(*this));
  if (index < 0) index += n;
  Shape shape = this->shape();
  Strides strides = this->strides();
  const std::int64_t offset = storage_offset() + index * strides[dim];
  shape.erase(shape.begin() + dim);
  strides.erase(strides.begin() + dim);
  Tensor out = view_of(*this, std::move(shape), std::move(strides), offset);
  NUDGE_RECORD("select", out, (this), [in = this->shape(), dim, index](const Tensor& g) {
    return scatter_into_zeros(g, in, [&](const Tensor& t) { return t.select(dim, index); });
  });
  return out;
}

Tensor Tensor::unsqueeze(std::int64_t dim) const {
  dim = wrap_dim(dim, this->dim() + 1, "unsqueeze");
  Shape shape = this->shape();
  Strides strides = this->strides();
  const std::int64_t stride = dim < this->dim() ? strides[dim] * shape[dim] : 1;
  shape.insert(shape.begin() + dim, 1);
  strides.insert(strides.begin() + dim, stride);
  Tensor out = view_of(*this, std::move(shape), std::move(strides), storage_offset());
  NUDGE_RECORD("unsqueeze", out, (this), [dim](const Tensor& g) { return Grads{g.squeeze(dim)}; });
  return out;
}

Tensor Tensor::squeeze() const {
  Shape shape;
  Strides strides;
  for (std::int64_t d = 0; d < dim(); ++d) {
    if (this->shape()[d] == 1) continue;
    shape.push_back(this->shape()[d]);
    strides.push_back(this->strides()[d]);
  }
  Tensor out = view_of(*this, std::move(shape), std::move(strides), storage_offset());
  NUDGE_RECORD("squeeze", out, (this), [in = this->shape()](const Tensor& g) { return Grads{g.reshape(in)}; });
  return out;
}

Tensor Tensor::squeeze(std::int64_t dim) const {
  dim = wrap_dim(dim, this->dim(), "squeeze");
  if (this->dim() == 0 || shape()[dim] != 1) return *this;
  Shape shape = this->shape();
  Strides strides = this->strides();
  shape.erase(shape.begin() + dim);
  strides.erase(strides.begin() + dim);
  Tensor out = view_of(*this, std::move(shape), std::move(strides), storage_offset());
  NUDGE_RECORD("squeeze", out, (this), [in = this->shape()](const Tensor& g) { return Grads{g.reshape(in)}; });
  return out;
}

Tensor Tensor::expand(Shape shape) const {
  NUDGE_CHECK(shape.size() >= this->shape().size(), "expand: cannot expand a ", describe(*this), " to ",
              shape_str(shape), " (fewer dims)");
  const std::size_t lead = shape.size() - this->shape().size();
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      NUDGE_CHECK(shape[i] >= 0, "expand: size -1 is not allowed for a new leading dim in ", shape_str(shape));
      continue;
    }
    const std::int64_t own = this->shape()[i - lead];
    if (shape[i] == -1) shape[i] = own;
    NUDGE_CHECK(own == shape[i] || own == 1, "expand: cannot expand a ", describe(*this), " to ", shape_str(shape),
                " (dim ", i, ": ", own, " vs ", shape[i], ")");
  }
  Strides strides = detail::broadcast_strides(*this, shape);
  Tensor out = view_of(*this, std::move(shape), std::move(strides), storage_offset());
  // The engine sums the gradient back over the expanded dims.
  NUDGE_RECORD("expand", out, (this), [](const Tensor& g) { return Grads{g}; });
  return out;
}

// ---- copies -------------------------------------------------------------------------------

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), TensorOptions(dtype()).device(device()));
  {
    NoGradGuard no_grad;  // copy_ into a fresh tensor; the history is recorded below
    out.copy_(*this);
  }
  NUDGE_RECORD("clone", out, (this), [](const Tensor& g) { return Grads{g}; });
  return out;
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == this->dtype()) return *this;
  Tensor out = empty(shape(), TensorOptions(dtype).device(device()));
  {
    NoGradGuard no_grad;
    out.copy_(*this);
  }
  if (is_floating(dtype))
    NUDGE_RECORD("to", out, (this), [from = this->dtype()](const Tensor& g) { return Grads{g.to(from)}; });
  return out;
}

Tensor Tensor::to(Device device, bool non_blocking) const {
  if (device == this->device()) return *this;
  detail::refuse_in_cpu_capture("to (copying between devices)");
  const Tensor src = contiguous();
  Tensor out = empty(shape(), TensorOptions(dtype()).device(device));
  // Whichever side is not the CPU owns the copy (a CUDA memcpy in either direction).
  const Device owner = device.is_cpu() ? src.device() : device;
  const std::size_t nbytes = static_cast<std::size_t>(numel()) * element_size();
  const DeviceRuntime& rt = dispatch::runtime(owner);
  const bool async = non_blocking && device.is_cuda() && src.is_pinned() && rt.copy_bytes_async != nullptr;
  if (nbytes > 0)
    (async ? rt.copy_bytes_async : rt.copy_bytes)(out.data_ptr(), device, src.data_ptr(), src.device(), nbytes);
  NUDGE_RECORD("to", out, (this), [from = this->device()](const Tensor& g) { return Grads{g.to(from)}; });
  return out;
}

Tensor Tensor::pin_memory() const {
  NUDGE_CHECK(device().is_cpu(), "pin_memory: only CPU tensors can be pinned, got a ", describe(*this));
  if (is_pinned()) return *this;
  detail::refuse_in_cpu_capture("pin_memory");
  const Tensor src = contiguous();
  const std::size_t nbytes = static_cast<std::size_t>(numel()) * element_size();
  Tensor out = make_tensor(std::make_shared<Storage>(Storage::Pinned{}, nbytes), shape(), contiguous_strides(shape()),
                           0, dtype());
  if (nbytes > 0) std::memcpy(out.data_ptr(), src.data_ptr(), nbytes);
  return out;
}

Tensor& Tensor::copy_(const Tensor& src) {
  NUDGE_CHECK(src.defined(), "copy_: source is an undefined tensor");
  detail::check_inplace(*this, &src, "copy_");
  detail::check_writable(*this, "copy_");
  NUDGE_CHECK(broadcast_shapes(shape(), src.shape(), "copy_") == shape(), "copy_: cannot copy a ", describe(src),
              " into a ", describe(*this), " (source must broadcast to the destination)");
  const Tensor source = detail::inplace_source(*this, src.to(device()), "copy_");
  storage()->bump_version();
  if (numel() == 0) return *this;
  CopyCall call{dtype(), source.dtype(), detail::make_strided_loop<2>(shape(), {this, &source}, "copy_")};
  dispatch::copy.run(device(), "copy_", call);
  return *this;
}

Tensor& Tensor::fill_(Scalar value) {
  detail::check_inplace(*this, nullptr, "fill_");
  detail::check_writable(*this, "fill_");
  // As PyTorch: a fractional value truncates, one outside int64 (or NaN, ±inf) is an error.
  const double v = value.to_double();
  NUDGE_CHECK(dtype() != kInt64 || value.is_integral() || (v >= -9223372036854775808.0 && v < 9223372036854775808.0),
              "fill_: value ", v, " cannot be converted to int64 without overflow (", describe(*this), ")");
  NUDGE_CHECK(dtype() != kFloat32 || !(std::fabs(v) > 3.4028234663852886e38) || std::isinf(v), "fill_: value ", v,
              " cannot be converted to float32 without overflow (", describe(*this), ")");
  storage()->bump_version();
  if (numel() == 0) return *this;
  FillCall call{dtype(), value, detail::make_strided_loop<1>(shape(), {this}, "fill_")};
  dispatch::fill.run(device(), "fill_", call);
  return *this;
}

}  // namespace nudge

#pragma once
/// Tensor: a cheap, shared handle to a strided view of a Storage. Copying a Tensor copies the
/// handle, not the data (as in PyTorch); views share storage; `clone()` copies.
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/graph.h"
#include "core/scalar.h"
#include "core/shape.h"
#include "core/storage.h"
#include "core/tensor_options.h"

namespace nudge {

namespace autograd {
class Node;
struct LeafHooks;
}  // namespace autograd

/// The state behind a Tensor handle. Views have their own TensorImpl over a shared Storage.
struct TensorImpl {
  // User-provided on purpose: make_shared<TensorImpl>() then runs the member initialisers only,
  // instead of first zero-filling the whole object (a `rep stos` that was a tenth of a small op).
  TensorImpl() noexcept {}  // NOLINT(modernize-use-equals-default)

  std::shared_ptr<Storage> storage;
  DType dtype = DType::Float32;
  // ---- autograd ----
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;                // accumulated gradient (leaves)
  std::shared_ptr<autograd::Node> grad_fn;         // the op that produced this tensor (non-leaves)
  std::weak_ptr<autograd::Node> grad_accumulator;  // a leaf's sink; weak, as the sink owns the leaf
  std::shared_ptr<autograd::LeafHooks> hooks;      // a leaf's post-accumulate hooks (autograd/hooks.h)

  // ---- geometry: set together, so the element count and contiguity are computed once per
  // tensor rather than on every numel() / is_contiguous() of the hot path ----
  const Shape& shape() const { return shape_; }
  const Strides& strides() const { return strides_; }
  std::int64_t offset() const { return offset_; }  // in elements
  std::int64_t numel() const { return numel_; }
  bool is_contiguous() const { return contiguous_; }
  /// Validates `shape` (no negative sizes, element count fits an int64) and sets the geometry.
  void set_geometry(Shape shape, Strides strides, std::int64_t offset);
  /// The geometry of a fresh contiguous tensor whose `numel` the caller has already validated.
  void set_contiguous_geometry(Shape shape, Strides strides, std::int64_t numel);

 private:
  Shape shape_;
  Strides strides_;
  std::int64_t offset_ = 0;
  std::int64_t numel_ = 1;
  bool contiguous_ = true;
};

namespace detail {
[[noreturn]] void throw_undefined_tensor();
}  // namespace detail

class Tensor {
 public:
  /// An undefined tensor (like a default torch::Tensor); most calls on it throw.
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }

  // ---- metadata --------------------------------------------------------------------------
  const Shape& sizes() const { return impl().shape(); }
  const Shape& shape() const { return impl().shape(); }
  /// Size of `dim` (negative counts from the end).
  std::int64_t size(std::int64_t dim) const { return shape()[wrapped(dim, "size")]; }
  const Strides& strides() const { return impl().strides(); }
  std::int64_t stride(std::int64_t dim) const { return strides()[wrapped(dim, "stride")]; }
  std::int64_t storage_offset() const { return impl().offset(); }
  std::int64_t dim() const { return static_cast<std::int64_t>(impl().shape().size()); }
  std::int64_t numel() const { return impl().numel(); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  std::size_t element_size() const { return itemsize(dtype()); }
  bool is_contiguous() const { return impl().is_contiguous(); }
  bool is_cuda() const { return device().is_cuda(); }
  const std::shared_ptr<Storage>& storage() const { return impl().storage; }
  /// Address of the first element (storage offset applied).
  void* data_ptr() const {
    // An empty tensor's storage may have no memory at all while a view of it keeps an offset (a
    // select on a [0, 3] tensor): offsetting a null pointer is undefined, so null stays null.
    char* base = static_cast<char*>(storage()->data());
    if (base == nullptr) return nullptr;
    return base + storage_offset() * static_cast<std::int64_t>(element_size());
  }
  /// Typed address of the first element; throws when T does not match dtype().
  template <class T> T* data_ptr() const;

  // ---- views (share storage) -------------------------------------------------------------
  /// Same data, new shape (one dim may be -1); throws when the strides cannot express it.
  Tensor view(Shape shape) const;
  /// A view when possible, otherwise a contiguous copy.
  Tensor reshape(Shape shape) const;
  Tensor flatten() const { return reshape({-1}); }
  Tensor transpose(std::int64_t dim0, std::int64_t dim1) const;
  /// Transpose of a 2-D tensor (0-D and 1-D are returned as is).
  Tensor t() const;
  Tensor permute(const std::vector<std::int64_t>& dims) const;
  /// Elements [start, start + length) along `dim`.
  Tensor narrow(std::int64_t dim, std::int64_t start, std::int64_t length) const;
  /// Elements start, start+step, ... < end along `dim` (Python slicing, clamped).
  Tensor slice(std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step = 1) const;
  /// Index `index` along `dim`, removing that dim.
  Tensor select(std::int64_t dim, std::int64_t index) const;
  /// x[i]: select(0, i), negative i counting from the end (PyTorch's `x[i]`).
  Tensor operator[](std::int64_t index) const;
  Tensor index(std::int64_t index) const { return (*this)[index]; }
  Tensor unsqueeze(std::int64_t dim) const;
  /// Removes every size-1 dim.
  Tensor squeeze() const;
  /// Removes `dim` if it has size 1 (otherwise returns the same view, as PyTorch does).
  Tensor squeeze(std::int64_t dim) const;
  /// Broadcasts size-1 dims to `shape` without copying (-1 keeps a size).
  Tensor expand(Shape shape) const;
  /// This tensor when already contiguous, otherwise a contiguous copy.
  Tensor contiguous() const;
  Tensor clone() const;

  // ---- conversion ------------------------------------------------------------------------
  /// A copy on `device` (this tensor itself when already there). `non_blocking` with a pinned
  /// source (pin_memory()) queues a host-to-device copy and returns at once; the source must
  /// then stay unmodified until the device has read it (record a cuda::Event to know when).
  Tensor to(Device device, bool non_blocking = false) const;
  Tensor to(DeviceType type) const { return to(Device(type)); }
  Tensor to(const char* device) const { return to(Device(device)); }
  /// A copy with element type `dtype` (this tensor itself when already that type).
  Tensor to(DType dtype) const;
  Tensor cpu() const { return to(Device::cpu()); }
  Tensor cuda(int index = 0) const { return to(Device::cuda(index)); }
  /// A copy of this CPU tensor in page-locked host memory (needs a CUDA device).
  Tensor pin_memory() const;
  bool is_pinned() const { return storage()->is_pinned(); }
  /// The value of a one-element tensor, converted to T.
  template <class T> T item() const;
  /// The elements in row-major order, converted to T (copied to the host if needed).
  template <class T> std::vector<T> to_vector() const;

  // ---- in-place (bump the storage version) -----------------------------------------------
  Tensor& add_(const Tensor& other);
  Tensor& add_(Scalar other);
  Tensor& sub_(const Tensor& other);
  Tensor& sub_(Scalar other);
  Tensor& mul_(const Tensor& other);
  Tensor& mul_(Scalar other);
  /// Copies `src` into this tensor, broadcasting it and converting dtype and device.
  Tensor& copy_(const Tensor& src);
  Tensor& fill_(Scalar value);
  Tensor& zero_() { return fill_(0); }

  // ---- op methods (same as the free functions in core/ops.h) ------------------------------
  Tensor sum() const;
  Tensor sum(std::int64_t dim, bool keepdim = false) const;
  Tensor any() const;
  Tensor all() const;
  Tensor mean() const;
  Tensor mean(std::int64_t dim, bool keepdim = false) const;
  Tensor max() const;
  std::tuple<Tensor, Tensor> max(std::int64_t dim, bool keepdim = false) const;
  Tensor min() const;
  std::tuple<Tensor, Tensor> min(std::int64_t dim, bool keepdim = false) const;
  Tensor argmax() const;
  Tensor argmax(std::int64_t dim, bool keepdim = false) const;
  Tensor matmul(const Tensor& other) const;
  Tensor neg() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor relu() const;
  Tensor pow(Scalar exponent) const;

  // ---- autograd (core/autograd) ----------------------------------------------------------
  bool requires_grad() const { return impl().requires_grad; }
  /// Marks a leaf as needing gradients (float dtypes only).
  Tensor& requires_grad_(bool requires_grad = true);
  /// The accumulated gradient (undefined until a backward reaches this tensor).
  Tensor grad() const;
  /// Replaces (or, with an undefined tensor, clears) the accumulated gradient.
  void set_grad(const Tensor& grad);
  /// The node that produced this tensor; null for leaves.
  const std::shared_ptr<autograd::Node>& grad_fn() const { return impl().grad_fn; }
  /// True unless this tensor was produced by a recorded op.
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  /// Back-propagates from this tensor: `gradient` may be omitted for a one-element tensor.
  /// Without retain_graph, saved tensors are freed and a second backward throws.
  void backward(const Tensor& gradient = {}, bool retain_graph = false) const;
  /// The same data (shared storage) cut off from the graph.
  Tensor detach() const;

  /// PyTorch-style text: values, then shape, dtype and device.
  std::string str() const;

  const TensorImpl& impl() const {
    if (impl_ == nullptr) [[unlikely]]
      detail::throw_undefined_tensor();
    return *impl_;
  }
  TensorImpl& impl() {
    if (impl_ == nullptr) [[unlikely]]
      detail::throw_undefined_tensor();
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  /// `dim` as an index into shape() (negative counts from the end); throws naming `op` when out of range.
  std::size_t wrapped(std::int64_t dim, const char* op) const {
    const auto ndim = static_cast<std::int64_t>(impl().shape().size());
    const std::int64_t d = dim < 0 ? dim + ndim : dim;
    if (d >= 0 && d < ndim) [[likely]]
      return static_cast<std::size_t>(d);
    NUDGE_CHECK(ndim > 0, op, ": dim ", dim, " given, but a 0-d tensor has no dims");
    return static_cast<std::size_t>(wrap_dim(dim, ndim, op));
  }

  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& out, const Tensor& t);

/// "tensor of shape [2, 3], float32, cpu": how error messages describe an operand.
std::string describe(const Tensor& t);

/// A new tensor over `storage` with the given geometry (used by views and factories).
Tensor make_tensor(std::shared_ptr<Storage> storage, Shape shape, Strides strides, std::int64_t offset, DType dtype);
/// A new, uninitialised, contiguous tensor.
Tensor empty(Shape shape, TensorOptions options = {});

// ---- template definitions ---------------------------------------------------------------

template <class T> T* Tensor::data_ptr() const {
  NUDGE_CHECK(dtype() == dtype_of<T>(), "data_ptr: requested ", dtype_name(dtype_of<T>()), " from a ", describe(*this));
  return static_cast<T*>(data_ptr());
}

template <class T> std::vector<T> Tensor::to_vector() const {
  detail::refuse_in_cpu_capture("to_vector (reading values on the host)");
  const Tensor host = to(Device::cpu()).to(dtype_of<T>()).contiguous();
  const T* p = host.data_ptr<T>();
  return std::vector<T>(p, p + host.numel());
}

template <class T> T Tensor::item() const {
  detail::refuse_in_cpu_capture("item");
  NUDGE_CHECK(numel() == 1, "item: expected a tensor with one element, got a ", describe(*this));
  return to_vector<T>()[0];
}

}  // namespace nudge

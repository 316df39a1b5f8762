#include "core/shape.h"

#include <algorithm>

#include "core/error.h"

namespace nudge {

namespace {
/// a * b, or an error naming `shape` when the product does not fit in an int64.
std::int64_t checked_mul(std::int64_t a, std::int64_t b, const Shape& shape) {
  std::int64_t product = 0;
  NUDGE_CHECK(!__builtin_mul_overflow(a, b, &product), "shape ", shape_str(shape),
              " has more elements than an int64 can count");
  return product;
}
}  // namespace

std::int64_t numel_of(const Shape& shape) {
  bool empty = false;
  for (auto s : shape) {
    NUDGE_CHECK(s >= 0, "shape ", shape_str(shape), " has a negative size");
    empty = empty || s == 0;
  }
  if (empty) return 0;  // [0, 2^40, 2^40] is empty, not an overflow
  std::int64_t n = 1;
  for (auto s : shape) n = checked_mul(n, s, shape);
  return n;
}

std::int64_t nbytes_of(const Shape& shape, std::size_t itemsize) {
  return checked_mul(numel_of(shape), static_cast<std::int64_t>(itemsize), shape);
}

Strides contiguous_strides(const Shape& shape) {
  std::int64_t numel = 0;
  return contiguous_strides(shape, numel);
}

Strides contiguous_strides(const Shape& shape, std::int64_t& numel) {
  Strides strides(shape.size());
  std::int64_t stride = 1;
  bool empty = false;
  for (auto i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride = checked_mul(stride, std::max<std::int64_t>(shape[i], 1), shape);
    empty = empty || shape[i] == 0;
  }
  numel = empty ? 0 : stride;
  return strides;
}

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    // Align from the right, as NumPy does.
    const std::int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const std::int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    NUDGE_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", shape_str(a), " and ", shape_str(b),
                " cannot be broadcast together (dim ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::int64_t wrap_dim(std::int64_t dim, std::int64_t ndim, const char* op) {
  const std::int64_t lo = ndim == 0 ? -1 : -ndim, hi = ndim == 0 ? 0 : ndim - 1;
  NUDGE_CHECK(dim >= lo && dim <= hi, op, ": dim ", dim, " is out of range for a tensor with ", ndim,
              " dims (expected ", lo, "..", hi, ")");
  return dim < 0 ? dim + std::max<std::int64_t>(ndim, 1) : dim;
}

}  // namespace nudge

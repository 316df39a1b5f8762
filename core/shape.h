#pragma once
/// Shapes and strides (in elements) and the arithmetic on them.
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

#include "core/small_vector.h"

namespace nudge {

/// Up to 6 dims without a heap allocation (every tensor has a shape and strides); more still work.
using Shape = SmallVector<std::int64_t, 6>;
using Strides = SmallVector<std::int64_t, 6>;

/// Number of elements of a shape (1 for a 0-dim shape). Every size must be >= 0 and the count
/// must fit in an int64: otherwise a nudge::Error, never a wrapped product (a file's header that
/// claims [2^62, 4] elements must not become a small allocation).
std::int64_t numel_of(const Shape& shape);
/// Bytes of a contiguous tensor of `shape` with elements of `itemsize` bytes, checked the same way.
std::int64_t nbytes_of(const Shape& shape, std::size_t itemsize);
/// Row-major (C-contiguous) strides for `shape` (checked against overflow like numel_of).
Strides contiguous_strides(const Shape& shape);
/// The same, also giving the element count (the product of the sizes) from the same pass; sizes
/// must not be negative.
Strides contiguous_strides(const Shape& shape, std::int64_t& numel);
/// "[2, 3]"
std::string shape_str(const Shape& shape);
/// NumPy broadcasting of two shapes; throws naming `op` when they are incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
/// Wraps a possibly negative dim into [0, ndim); throws naming `op` when out of range.
std::int64_t wrap_dim(std::int64_t dim, std::int64_t ndim, const char* op);

inline std::ostream& operator<<(std::ostream& out, const Shape& s) { return out << shape_str(s); }

}  // namespace nudge

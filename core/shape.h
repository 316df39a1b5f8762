#pragma once
/// Shapes and strides (in elements) and the arithmetic on them.
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

namespace nudge {

using Shape = std::vector<std::int64_t>;
using Strides = std::vector<std::int64_t>;

/// Number of elements of a shape (1 for a 0-dim shape).
std::int64_t numel_of(const Shape& shape);
/// Row-major (C-contiguous) strides for `shape`.
Strides contiguous_strides(const Shape& shape);
/// "[2, 3]"
std::string shape_str(const Shape& shape);
/// NumPy broadcasting of two shapes; throws naming `op` when they are incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
/// Wraps a possibly negative dim into [0, ndim); throws naming `op` when out of range.
std::int64_t wrap_dim(std::int64_t dim, std::int64_t ndim, const char* op);

inline std::ostream& operator<<(std::ostream& out, const Shape& s) { return out << shape_str(s); }

}  // namespace nudge

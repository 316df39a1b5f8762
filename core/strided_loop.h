#pragma once
/// Builds the StridedLoop a backend walks: operands broadcast to one shape, then adjacent dims
/// merged wherever every operand allows it, so most loops end up 1-D and contiguous.
#include <array>

#include "core/kernel_args.h"
#include "core/tensor.h"

namespace nudge::detail {

/// Operand 0 is the output and must have `shape`; inputs are broadcast to it.
template <int N>
StridedLoop<N> make_strided_loop(const Shape& shape, const std::array<const Tensor*, N>& operands, const char* op);

/// Strides of `t` viewed at `shape` (0 on broadcast dims); `t` must broadcast to `shape`.
Strides broadcast_strides(const Tensor& t, const Shape& shape);

/// Throws when `t` cannot be written elementwise: an expanded view (stride 0 on a dim of size > 1)
/// maps many elements to one address.
void check_writable(const Tensor& t, const char* op);

}  // namespace nudge::detail

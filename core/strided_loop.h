#pragma once
/// Builds the StridedLoop a backend walks: operands broadcast to one shape, then adjacent dims
/// merged wherever every operand allows it, so most loops end up 1-D and contiguous.
#include <array>

#include "kernels/calls.h"
#include "core/tensor.h"

namespace nudge::detail {

/// Operand 0 is the output; every operand is walked at `shape` (inputs broadcast to it; the target
/// of gather and scatter_add, larger than their index, through its own strides).
template <int N>
kernels::StridedLoop<N> make_strided_loop(const Shape& shape, const std::array<const Tensor*, N>& operands,
                                          const char* op);

/// Strides of `t` viewed at `shape` (0 on broadcast dims); `t` must broadcast to `shape`.
Strides broadcast_strides(const Tensor& t, const Shape& shape);

/// Throws when `t` cannot be written elementwise: an expanded view (stride 0 on a dim of size > 1)
/// maps many elements to one address.
void check_writable(const Tensor& t, const char* op);

/// The tensor an in-place op on `self` may read `source` through (PyTorch's rule, the same on
/// every backend): `source` itself when it shares no memory with `self` or is laid out exactly like
/// it; an error when both are dense and overlap otherwise (`x.add_(x.t())`,
/// `x.add_(x.narrow(0, 0, 1))`: an element would be read after being overwritten); a copy of
/// `source` when the layouts are too irregular to tell (strided views that interleave).
Tensor inplace_source(const Tensor& self, const Tensor& source, const char* op);

}  // namespace nudge::detail

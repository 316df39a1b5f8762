#pragma once
/// Internal ops the backward formulas share; not part of the public API (core/ops.h).
#include <utility>

#include "core/activation.h"
#include "core/shape.h"
#include "core/tensor.h"

namespace nudge::detail {

/// dL/dz of y = act(z) from dL/dy, y and (for an activation whose gradient needs it) z, through
/// the activation table of kernels/functors.h (the formula the fused Dense backward uses too), in
/// ONE kernel; with `bias_grad`, also the column sums of dL/dz for a [rows, cols] y (the bias
/// gradient). Any shape without `bias_grad`; z, when given, is dense like y.
std::pair<Tensor, Tensor> activation_grad(const Tensor& grad_y, const Tensor& y, ActivationSpec act,
                                          bool bias_grad = false, const Tensor& z = {});

/// Whether act's backward reads its input z (GELU, SiLU, ...) rather than its output alone.
bool activation_needs_input(const ActivationSpec& act);

}  // namespace nudge::detail

namespace nudge::detail {

/// The geometry of a sliding window over the last two dims of an image (kernels/calls.h
/// WindowCall): kernel, stride, padding, dilation and the number of positions per dim.
struct WindowGeometry {
  std::int64_t kernel[2], stride[2], padding[2], dilation[2], out[2];
};

/// How a windows() result is laid out: [N, C·kk, L] (unfold's), [N·L, C·kk] (the rows of a
/// convolution's GEMM) or [N, C, L, kk] (pooling: one window per row).
enum class WindowLayout { Unfold, Rows, Pool };

/// Positions of a window along one dim (PyTorch's formula, with ceil_mode's rule that the last
/// window starts inside the input or its left padding); throws, naming `op`, when there are none.
std::int64_t window_positions(std::int64_t size, std::int64_t kernel, std::int64_t stride, std::int64_t padding,
                              std::int64_t dilation, bool ceil_mode, const char* op, const Tensor& x);

/// The windows of image [N, C, H, W] (any strides) in `layout`, pad_value outside the image; the
/// gradient folds back (overlaps add up).
Tensor windows(const Tensor& image, const WindowGeometry& g, WindowLayout layout, double pad_value);
/// The adjoint of windows(): cols in `layout` summed into an image of `image_shape` [N, C, H, W];
/// the gradient unfolds.
Tensor fold_windows(const Tensor& cols, const WindowGeometry& g, WindowLayout layout, const Shape& image_shape);

}  // namespace nudge::detail

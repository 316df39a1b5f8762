#pragma once
/// Internal ops the backward formulas share; not part of the public API (core/ops.h).
#include <utility>

#include "core/activation.h"
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

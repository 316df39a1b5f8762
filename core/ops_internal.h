#pragma once
/// Internal ops the backward formulas share; not part of the public API (core/ops.h).
#include "core/tensor.h"

namespace nudge::detail {

/// `value` where `mask` > 0 (or NaN), else 0: PyTorch's `where(mask, value, 0)` for the masks the
/// backward formulas build. Unlike `value * mask`, an inf or NaN in `value` never turns a zero of
/// the mask into NaN (relu's gradient at x ≤ 0 under an infinite upstream gradient stays 0).
/// Broadcasts like a binary op; records no gradient.
Tensor keep_where(const Tensor& value, const Tensor& mask);

}  // namespace nudge::detail

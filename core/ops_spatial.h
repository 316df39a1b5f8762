#pragma once
/// Ops over images and sequences, NCHW (NCL for 1-D): convolutions, pooling, normalisation, the
/// classification loss on log-probabilities, and the shape helpers CNNs use. PyTorch's names,
/// argument order, defaults and output shapes (torch.nn.functional). Under all the windowed ops is
/// one kernel pair, unfold (im2col) and fold (col2im); the arithmetic is GEMM (matmul, or linear
/// with its fused bias and activation) and reductions, so every op runs on every device and its
/// gradient is the composition's.
#include <cstdint>
#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/activation.h"
#include "core/ops.h"

namespace nudge {

/// A (height, width) pair given as one number for both or as {h, w}, like PyTorch's int-or-tuple
/// arguments: conv2d(x, w, b, /*stride=*/2) or conv2d(x, w, b, {2, 1}).
struct Size2 {
  std::int64_t h, w;
  Size2(std::int64_t both) : h(both), w(both) {}  // NOLINT: converts like PyTorch's int argument
  Size2(std::int64_t height, std::int64_t width) : h(height), w(width) {}
  bool operator==(const Size2&) const = default;
};

// ---- sliding windows (core/ops_conv.cpp) ---------------------------------------------------------
/// The k_h·k_w windows of x [N, C, H, W] (or [C, H, W]) as columns: [N, C·k_h·k_w, L], L the number
/// of window positions (torch.nn.functional.unfold, im2col); zeros outside the image.
Tensor unfold(const Tensor& x, Size2 kernel_size, Size2 dilation = 1, Size2 padding = 0, Size2 stride = 1);
/// The adjoint of unfold: sums columns [N, C·k_h·k_w, L] back into an image [N, C, H, W] with
/// (H, W) = output_size, overlapping windows adding up (torch.nn.functional.fold, col2im).
Tensor fold(const Tensor& cols, Size2 output_size, Size2 kernel_size, Size2 dilation = 1, Size2 padding = 0,
            Size2 stride = 1);

// ---- convolutions (core/ops_conv.cpp) ------------------------------------------------------------
/// 2-D cross-correlation of x [N, C_in, H, W] (or [C_in, H, W]) with weight
/// [C_out, C_in / groups, k_h, k_w], plus bias [C_out] if given, then `act` (fused with the bias,
/// as in linear). groups = C_in is a depthwise convolution.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, Size2 stride = 1, Size2 padding = 0,
              Size2 dilation = 1, std::int64_t groups = 1, ActivationSpec act = Activation::Identity);
/// conv2d with padding "valid" (none) or "same" (the output as large as the input; stride 1 only,
/// any extra padding on the bottom/right, as PyTorch).
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, std::string_view padding, Size2 dilation = 1,
              std::int64_t groups = 1, ActivationSpec act = Activation::Identity);
/// 1-D: x [N, C_in, L] (or [C_in, L]), weight [C_out, C_in / groups, k].
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, std::int64_t stride = 1,
              std::int64_t padding = 0, std::int64_t dilation = 1, std::int64_t groups = 1);
/// The transpose (gradient) of conv2d with respect to its input, the upsampling convolution:
/// x [N, C_in, H, W], weight [C_in, C_out / groups, k_h, k_w]; the output is
/// (H − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1 high (and wide likewise).
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, Size2 stride = 1,
                        Size2 padding = 0, Size2 output_padding = 0, std::int64_t groups = 1, Size2 dilation = 1);

// ---- pooling and resampling (core/ops_pool.cpp) --------------------------------------------------
/// The maximum of each window; stride defaults to the kernel size; padding (at most half the
/// kernel) counts as −inf; ceil_mode rounds the output size up (a last window must start inside
/// the image or its left padding). NaN in a window wins, as in PyTorch.
Tensor max_pool2d(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride = std::nullopt, Size2 padding = 0,
                  Size2 dilation = 1, bool ceil_mode = false);
/// max_pool2d and, for each output, the flat index h·W + w of its maximum in the input plane.
std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, Size2 kernel_size,
                                                   std::optional<Size2> stride = std::nullopt, Size2 padding = 0,
                                                   Size2 dilation = 1, bool ceil_mode = false);
/// The mean of each window: divided by the window's size including padding (count_include_pad),
/// or by its elements inside the image, or by divisor_override.
Tensor avg_pool2d(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride = std::nullopt, Size2 padding = 0,
                  bool ceil_mode = false, bool count_include_pad = true,
                  std::optional<std::int64_t> divisor_override = std::nullopt);
/// The mean over output_size windows that tile the input: row i covers [⌊i·H/h⌋, ⌈(i+1)·H/h⌉).
Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size);
/// Nearest-neighbour upsampling of [N, C, H, W] (or [N, C, L]) by an integer factor per spatial dim
/// (torch.nn.functional.interpolate with mode="nearest").
Tensor interpolate_nearest(const Tensor& x, std::int64_t scale_factor);

// ---- normalisation (core/ops_norm.cpp) -----------------------------------------------------------
/// Normalises each channel of x [N, C], [N, C, L] or [N, C, H, W] over every other dim. Training:
/// by the batch's mean and (biased) variance, updating running_mean/running_var in place when
/// given (the variance unbiased, with `momentum`); evaluation: by the running statistics. Then
/// · weight + bias per channel when given.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight = {},
                  const Tensor& bias = {}, bool training = false, double momentum = 0.1, double eps = 1e-5);
/// Normalises x [N, C, *] over each group of C / num_groups channels (and every spatial position),
/// then · weight + bias per channel when given.
Tensor group_norm(const Tensor& x, std::int64_t num_groups, const Tensor& weight = {}, const Tensor& bias = {},
                  double eps = 1e-5);

// ---- loss and shapes (core/ops_spatial_misc.cpp) -------------------------------------------------
/// −input[i, target[i]] · weight[target[i]] for log-probabilities input [N, C] (or [N, C, d...] with
/// target [N, d...]), int64 class targets; targets equal to ignore_index add nothing; Mean divides
/// by the summed weights of the targets that count (NaN when none does).
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight = {}, std::int64_t ignore_index = -100,
                Reduction reduction = Reduction::Mean);
/// Pads the last dims with `value`: pads = {left, right} for the last dim, then {top, bottom} for
/// the one before, and so on (torch.nn.functional.pad, mode "constant"); negative pads crop.
Tensor pad(const Tensor& x, const std::vector<std::int64_t>& pads, double value = 0);
/// Dims start_dim..end_dim merged into one (torch.flatten).
Tensor flatten(const Tensor& x, std::int64_t start_dim = 0, std::int64_t end_dim = -1);
/// Dim `dim` split into `sizes` (one of them may be −1) (torch.unflatten).
Tensor unflatten(const Tensor& x, std::int64_t dim, const std::vector<std::int64_t>& sizes);

}  // namespace nudge

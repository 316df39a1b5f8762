// Convolutions as GEMMs over windows: conv2d is linear(rows of windows, weight) — the rows are the
// image's windows laid out [N·L, C·kk] by the unfold kernel, so the bias and an activation come
// fused from linear — and conv_transpose2d is the GEMM the other way followed by a fold. The
// gradients are those of the composition (fold for the input, a GEMM for the weight).
#include "core/ops_checks.h"
#include "core/ops_internal.h"
#include "core/ops_spatial.h"

namespace nudge {

namespace {

using detail::WindowGeometry;
using detail::WindowLayout;

void check_conv_args(const Tensor& x, const Tensor& weight, const Tensor& bias, std::int64_t groups, const char* op) {
  detail::check_defined(x, op);
  detail::check_defined(weight, op);
  detail::check_same_device_and_dtype(x, weight, op);
  detail::check_floating(x, op);
  NUDGE_CHECK(groups >= 1, op, ": groups must be positive, got ", groups);
  if (bias.defined()) detail::check_same_device_and_dtype(x, bias, op);
}

void check_pair(Size2 v, const char* what, const char* op, std::int64_t minimum) {
  NUDGE_CHECK(v.h >= minimum && v.w >= minimum, op, ": ", what, " must be ", minimum == 0 ? "non-negative" : "positive",
              ", got (", v.h, ", ", v.w, ")");
}

/// One group's convolution: [N·L, C_out_g] rows.
Tensor conv_rows(const Tensor& image, const Tensor& weight, const Tensor& bias, const WindowGeometry& g,
                 ActivationSpec act) {
  const Tensor rows = detail::windows(image, g, WindowLayout::Rows, 0);
  return linear(rows, weight.reshape({weight.size(0), -1}), bias, act);
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride, Size2 padding, Size2 dilation,
              std::int64_t groups, ActivationSpec act) {
  check_conv_args(x, weight, bias, groups, "conv2d");
  NUDGE_CHECK(x.dim() == 3 || x.dim() == 4, "conv2d: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got a ",
              describe(x));
  NUDGE_CHECK(weight.dim() == 4, "conv2d: expected a 4-D weight [C_out, C_in / groups, kH, kW], got a ",
              describe(weight));
  check_pair(stride, "stride", "conv2d", 1);
  check_pair(padding, "padding", "conv2d", 0);
  check_pair(dilation, "dilation", "conv2d", 1);
  const Tensor image = x.dim() == 3 ? x.unsqueeze(0) : x;
  const std::int64_t N = image.size(0), C = image.size(1), out_channels = weight.size(0);
  NUDGE_CHECK(C == weight.size(1) * groups, "conv2d: the input ", describe(x), " has ", C, " channels, but weight ",
              describe(weight), " with groups=", groups, " expects ", weight.size(1) * groups);
  NUDGE_CHECK(out_channels % groups == 0, "conv2d: weight ", describe(weight), " has ", out_channels,
              " output channels, not divisible by groups=", groups);
  if (bias.defined())
    NUDGE_CHECK(bias.dim() == 1 && bias.size(0) == out_channels, "conv2d: bias ", describe(bias),
                " does not fit weight ", describe(weight), " (expected bias [", out_channels, "])");
  WindowGeometry g{
      {weight.size(2), weight.size(3)}, {stride.h, stride.w}, {padding.h, padding.w}, {dilation.h, dilation.w}, {}};
  for (int d = 0; d < 2; ++d)
    g.out[d] = detail::window_positions(image.size(2 + d), g.kernel[d], g.stride[d], g.padding[d], g.dilation[d], false,
                                        "conv2d", x);
  Tensor rows;  // [N·L, C_out]
  if (groups == 1) {
    rows = conv_rows(image, weight, bias, g, act);
  } else {
    const std::int64_t in_g = C / groups, out_g = out_channels / groups;
    std::vector<Tensor> parts;
    for (std::int64_t k = 0; k < groups; ++k)
      parts.push_back(conv_rows(image.narrow(1, k * in_g, in_g), weight.narrow(0, k * out_g, out_g),
                                bias.defined() ? bias.narrow(0, k * out_g, out_g) : Tensor(), g, act));
    rows = cat(parts, 1);
  }
  const Tensor out = rows.reshape({N, g.out[0], g.out[1], out_channels}).permute({0, 3, 1, 2}).contiguous();
  return x.dim() == 3 ? out.squeeze(0) : out;
}

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, std::string_view padding, Size2 dilation,
              std::int64_t groups, ActivationSpec act) {
  NUDGE_CHECK(padding == "valid" || padding == "same", "conv2d: padding must be \"valid\", \"same\" or numbers, got \"",
              padding, "\"");
  if (padding == "valid") return conv2d(x, weight, bias, 1, 0, dilation, groups, act);
  detail::check_defined(weight, "conv2d");
  NUDGE_CHECK(weight.dim() == 4, "conv2d: expected a 4-D weight [C_out, C_in / groups, kH, kW], got a ",
              describe(weight));
  // "same": total padding dilation·(k − 1) per dim; an odd total puts the extra one bottom/right.
  const std::int64_t total_h = dilation.h * (weight.size(2) - 1), total_w = dilation.w * (weight.size(3) - 1);
  if (total_h % 2 == 0 && total_w % 2 == 0)
    return conv2d(x, weight, bias, 1, Size2(total_h / 2, total_w / 2), dilation, groups, act);
  const Tensor padded = pad(x, {total_w / 2, total_w - total_w / 2, total_h / 2, total_h - total_h / 2});
  return conv2d(padded, weight, bias, 1, 0, dilation, groups, act);
}

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, std::int64_t stride, std::int64_t padding,
              std::int64_t dilation, std::int64_t groups) {
  detail::check_defined(x, "conv1d");
  detail::check_defined(weight, "conv1d");
  NUDGE_CHECK(x.dim() == 2 || x.dim() == 3, "conv1d: expected a 2-D [C, L] or 3-D [N, C, L] input, got a ",
              describe(x));
  NUDGE_CHECK(weight.dim() == 3, "conv1d: expected a 3-D weight [C_out, C_in / groups, k], got a ", describe(weight));
  NUDGE_CHECK(stride >= 1 && padding >= 0 && dilation >= 1,
              "conv1d: expected stride ≥ 1, padding ≥ 0, dilation ≥ 1, got ", stride, ", ", padding, ", ", dilation);
  return conv2d(x.unsqueeze(-2), weight.unsqueeze(2), bias, Size2(1, stride), Size2(0, padding), Size2(1, dilation),
                groups)
      .squeeze(-2);
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride, Size2 padding,
                        Size2 output_padding, std::int64_t groups, Size2 dilation) {
  check_conv_args(x, weight, bias, groups, "conv_transpose2d");
  NUDGE_CHECK(x.dim() == 3 || x.dim() == 4,
              "conv_transpose2d: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got a ", describe(x));
  NUDGE_CHECK(weight.dim() == 4, "conv_transpose2d: expected a 4-D weight [C_in, C_out / groups, kH, kW], got a ",
              describe(weight));
  check_pair(stride, "stride", "conv_transpose2d", 1);
  check_pair(padding, "padding", "conv_transpose2d", 0);
  check_pair(output_padding, "output_padding", "conv_transpose2d", 0);
  check_pair(dilation, "dilation", "conv_transpose2d", 1);
  NUDGE_CHECK(output_padding.h < std::max(stride.h, dilation.h) && output_padding.w < std::max(stride.w, dilation.w),
              "conv_transpose2d: output_padding (", output_padding.h, ", ", output_padding.w,
              ") must be smaller than either stride or dilation");
  const Tensor image = x.dim() == 3 ? x.unsqueeze(0) : x;
  const std::int64_t N = image.size(0), C = image.size(1), H = image.size(2), W = image.size(3);
  NUDGE_CHECK(C == weight.size(0), "conv_transpose2d: the input ", describe(x), " has ", C, " channels, but weight ",
              describe(weight), " expects ", weight.size(0));
  NUDGE_CHECK(C % groups == 0, "conv_transpose2d: ", C, " input channels are not divisible by groups=", groups);
  const std::int64_t out_g = weight.size(1), out_channels = out_g * groups, kH = weight.size(2), kW = weight.size(3);
  if (bias.defined())
    NUDGE_CHECK(bias.dim() == 1 && bias.size(0) == out_channels, "conv_transpose2d: bias ", describe(bias),
                " does not fit weight ", describe(weight), " and groups=", groups, " (expected bias [", out_channels,
                "])");
  const std::int64_t out_h = (H - 1) * stride.h - 2 * padding.h + dilation.h * (kH - 1) + output_padding.h + 1;
  const std::int64_t out_w = (W - 1) * stride.w - 2 * padding.w + dilation.w * (kW - 1) + output_padding.w + 1;
  NUDGE_CHECK(out_h > 0 && out_w > 0, "conv_transpose2d: the output of ", describe(x), " would be (", out_h, ", ",
              out_w, "): padding is too large");
  // The output's windows are the input's positions: fold sums each input pixel's kk contributions.
  const WindowGeometry g{{kH, kW}, {stride.h, stride.w}, {padding.h, padding.w}, {dilation.h, dilation.w}, {H, W}};
  const Tensor rows = image.permute({0, 2, 3, 1}).reshape({N * H * W, C});  // [N·L, C_in]
  const std::int64_t in_g = C / groups;
  std::vector<Tensor> parts;
  for (std::int64_t k = 0; k < groups; ++k) {
    const Tensor x_g = groups == 1 ? rows : rows.narrow(1, k * in_g, in_g);
    const Tensor w_g = (groups == 1 ? weight : weight.narrow(0, k * in_g, in_g)).reshape({in_g, out_g * kH * kW});
    parts.push_back(detail::fold_windows(matmul(x_g, w_g), g, WindowLayout::Rows, Shape{N, out_g, out_h, out_w}));
  }
  Tensor out = groups == 1 ? parts[0] : cat(parts, 1);
  if (bias.defined()) out = out + bias.reshape({1, out_channels, 1, 1});
  return x.dim() == 3 ? out.squeeze(0) : out;
}

}  // namespace nudge

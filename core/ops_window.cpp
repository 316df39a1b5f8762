// Sliding windows: the one kernel pair (WindowCall: unfold = im2col, fold = col2im) under
// unfold/fold, the convolutions and the pooling ops, each the other's gradient.
#include <array>

#include "core/autograd/node.h"
#include "core/ops_checks.h"
#include "core/ops_internal.h"
#include "core/ops_spatial.h"
#include "kernels/dispatch.h"

// core reaches the backends only through the dispatch tables and the plain-data calls.
using namespace nudge::kernels;  // NOLINT(google-build-using-namespace)

namespace nudge {

namespace detail {

std::int64_t window_positions(std::int64_t size, std::int64_t kernel, std::int64_t stride, std::int64_t padding,
                              std::int64_t dilation, bool ceil_mode, const char* op, const Tensor& x) {
  // PyTorch's pooling_output_shape: ⌊(size + 2·padding − span + (ceil_mode ? stride − 1 : 0)) / stride⌋ + 1
  // (rounded toward −inf), then ceil_mode drops a last window that would start past the input and
  // its left padding.
  const std::int64_t span = dilation * (kernel - 1) + 1;
  const std::int64_t numerator = size + 2 * padding - span + (ceil_mode ? stride - 1 : 0);
  std::int64_t positions = (numerator >= 0 ? numerator / stride : -((-numerator + stride - 1) / stride)) + 1;
  if (ceil_mode && positions > 0 && (positions - 1) * stride >= size + padding) --positions;
  NUDGE_CHECK(positions >= 1, op, ": the window (", kernel, " with dilation ", dilation,
              ") is larger than the padded input (", size, " + 2·", padding, ") of ", describe(x),
              "; the output would be empty");
  return positions;
}

namespace {

/// The strides of cols (n, c, k, l) in `layout`, for a dense result of C channels, kk window
/// positions and L output positions.
std::array<std::int64_t, 4> cols_strides(WindowLayout layout, std::int64_t C, std::int64_t kk, std::int64_t L) {
  switch (layout) {
    case WindowLayout::Unfold: return {C * kk * L, kk * L, L, 1};
    case WindowLayout::Rows: return {L * C * kk, kk, 1, C * kk};
    case WindowLayout::Pool: return {C * L * kk, L * kk, 1, kk};
  }
  return {};
}

Shape cols_shape(WindowLayout layout, std::int64_t N, std::int64_t C, std::int64_t kk, std::int64_t L) {
  switch (layout) {
    case WindowLayout::Unfold: return {N, C * kk, L};
    case WindowLayout::Rows: return {N * L, C * kk};
    case WindowLayout::Pool: return {N, C, L, kk};
  }
  return {};
}

WindowCall make_call(bool fold, const Tensor& image, const Tensor& cols, const WindowGeometry& g, WindowLayout layout,
                     double pad_value) {
  WindowCall call{};
  call.fold = fold;
  call.dtype = image.dtype();
  call.image = image.data_ptr();
  call.cols = cols.data_ptr();
  call.batch = image.size(0);
  call.channels = image.size(1);
  call.height = image.size(2);
  call.width = image.size(3);
  for (int d = 0; d < 4; ++d) call.image_strides[d] = image.stride(d);
  for (int d = 0; d < 2; ++d) {
    call.kernel[d] = g.kernel[d];
    call.stride[d] = g.stride[d];
    call.padding[d] = g.padding[d];
    call.dilation[d] = g.dilation[d];
    call.out_size[d] = g.out[d];
  }
  const auto strides = cols_strides(layout, call.channels, call.window(), call.positions());
  for (int d = 0; d < 4; ++d) call.cols_strides[d] = strides[d];
  call.pad_value = pad_value;
  return call;
}

Tensor unfold_kernel(const Tensor& image, const WindowGeometry& g, WindowLayout layout, double pad_value) {
  const std::int64_t kk = g.kernel[0] * g.kernel[1], L = g.out[0] * g.out[1];
  Tensor cols = empty(cols_shape(layout, image.size(0), image.size(1), kk, L),
                      TensorOptions(image.dtype()).device(image.device()));
  if (cols.numel() > 0)
    dispatch::window.run(image.device(), "unfold", make_call(false, image, cols, g, layout, pad_value));
  return cols;
}

Tensor fold_kernel(const Tensor& cols, const WindowGeometry& g, WindowLayout layout, const Shape& image_shape) {
  const Tensor dense = cols.contiguous();
  Tensor image = empty(image_shape, TensorOptions(cols.dtype()).device(cols.device()));
  if (image.numel() > 0) dispatch::window.run(cols.device(), "fold", make_call(true, image, dense, g, layout, 0));
  return image;
}

}  // namespace

Tensor windows(const Tensor& image, const WindowGeometry& g, WindowLayout layout, double pad_value) {
  Tensor cols;
  {
    NoGradGuard no_grad;
    cols = unfold_kernel(image, g, layout, pad_value);
  }
  NUDGE_RECORD("unfold", cols, (&image), [g, layout, shape = image.shape()](const Tensor& grad) {
    return autograd::Grads{fold_windows(grad, g, layout, shape)};
  });
  return cols;
}

Tensor fold_windows(const Tensor& cols, const WindowGeometry& g, WindowLayout layout, const Shape& image_shape) {
  Tensor image;
  {
    NoGradGuard no_grad;
    image = fold_kernel(cols, g, layout, image_shape);
  }
  NUDGE_RECORD("fold", image, (&cols),
               [g, layout](const Tensor& grad) { return autograd::Grads{windows(grad, g, layout, 0)}; });
  return image;
}

}  // namespace detail

namespace {

void check_positive(Size2 v, const char* what, const char* op, std::int64_t minimum) {
  NUDGE_CHECK(v.h >= minimum && v.w >= minimum, op, ": ", what, " must be ", minimum == 0 ? "non-negative" : "positive",
              ", got (", v.h, ", ", v.w, ")");
}

/// x as [N, C, H, W]: a 3-D [C, H, W] gains a batch of one; anything else is an error.
Tensor as_batch(const Tensor& x, const char* op) {
  detail::check_defined(x, op);
  NUDGE_CHECK(x.dim() == 3 || x.dim() == 4, op, ": expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got a ",
              describe(x));
  return x.dim() == 3 ? x.unsqueeze(0) : x;
}

}  // namespace

Tensor unfold(const Tensor& x, Size2 kernel_size, Size2 dilation, Size2 padding, Size2 stride) {
  const Tensor image = as_batch(x, "unfold");
  detail::check_numeric(x, "unfold");
  check_positive(kernel_size, "kernel_size", "unfold", 1);
  check_positive(dilation, "dilation", "unfold", 1);
  check_positive(padding, "padding", "unfold", 0);
  check_positive(stride, "stride", "unfold", 1);
  detail::WindowGeometry g{
      {kernel_size.h, kernel_size.w}, {stride.h, stride.w}, {padding.h, padding.w}, {dilation.h, dilation.w}, {}};
  for (int d = 0; d < 2; ++d)
    g.out[d] = detail::window_positions(image.size(2 + d), g.kernel[d], g.stride[d], g.padding[d], g.dilation[d], false,
                                        "unfold", x);
  const Tensor cols = detail::windows(image, g, detail::WindowLayout::Unfold, 0);
  return x.dim() == 3 ? cols.squeeze(0) : cols;
}

Tensor fold(const Tensor& cols, Size2 output_size, Size2 kernel_size, Size2 dilation, Size2 padding, Size2 stride) {
  detail::check_defined(cols, "fold");
  detail::check_numeric(cols, "fold");
  NUDGE_CHECK(cols.dim() == 2 || cols.dim() == 3, "fold: expected a 2-D [C·kk, L] or 3-D [N, C·kk, L] input, got a ",
              describe(cols));
  check_positive(kernel_size, "kernel_size", "fold", 1);
  check_positive(dilation, "dilation", "fold", 1);
  check_positive(padding, "padding", "fold", 0);
  check_positive(stride, "stride", "fold", 1);
  check_positive(output_size, "output_size", "fold", 1);
  const Tensor batched = cols.dim() == 2 ? cols.unsqueeze(0) : cols;
  const std::int64_t kk = kernel_size.h * kernel_size.w;
  NUDGE_CHECK(batched.size(1) % kk == 0, "fold: expected dim 1 of the input ", describe(cols),
              " to be divisible by the window size ", kernel_size.h, "·", kernel_size.w, " = ", kk);
  detail::WindowGeometry g{
      {kernel_size.h, kernel_size.w}, {stride.h, stride.w}, {padding.h, padding.w}, {dilation.h, dilation.w}, {}};
  const std::int64_t size[2] = {output_size.h, output_size.w};
  for (int d = 0; d < 2; ++d)
    g.out[d] =
        detail::window_positions(size[d], g.kernel[d], g.stride[d], g.padding[d], g.dilation[d], false, "fold", cols);
  NUDGE_CHECK(batched.size(2) == g.out[0] * g.out[1], "fold: the input ", describe(cols), " has ", batched.size(2),
              " window positions, but an output of (", output_size.h, ", ", output_size.w, ") has ", g.out[0], "·",
              g.out[1], " = ", g.out[0] * g.out[1]);
  const Shape image_shape{batched.size(0), batched.size(1) / kk, output_size.h, output_size.w};
  const Tensor image = detail::fold_windows(batched, g, detail::WindowLayout::Unfold, image_shape);
  return cols.dim() == 2 ? image.squeeze(0) : image;
}

}  // namespace nudge

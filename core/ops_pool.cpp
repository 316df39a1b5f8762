// Pooling as a reduction over windows: max and average pooling reduce the last dim of the image's
// windows laid out [N, C, L, kk] (padding −inf for max, 0 for average); adaptive average pooling is
// two small GEMMs with averaging matrices; nearest upsampling is two index_selects.
#include <cmath>
#include <limits>

#include "core/factory.h"
#include "core/ops_checks.h"
#include "core/ops_internal.h"
#include "core/ops_spatial.h"

namespace nudge {

namespace {

using detail::WindowGeometry;
using detail::WindowLayout;

struct Pooling {
  Tensor image;  // [N, C, H, W]
  WindowGeometry g;
};

Pooling pooling_geometry(const Tensor& x, Size2 kernel, std::optional<Size2> stride, Size2 padding, Size2 dilation,
                         bool ceil_mode, const char* op) {
  detail::check_defined(x, op);
  detail::check_floating(x, op);
  NUDGE_CHECK(x.dim() == 3 || x.dim() == 4, op, ": expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got a ",
              describe(x));
  for (std::int64_t d = x.dim() == 4 ? 1 : 0; d < x.dim(); ++d)  // only a batch dim may be empty
    NUDGE_CHECK(x.size(d) > 0, op, ": expected an input whose dims other than the batch are non-empty, got a ",
                describe(x));
  const Size2 s = stride.value_or(kernel);
  NUDGE_CHECK(kernel.h >= 1 && kernel.w >= 1 && s.h >= 1 && s.w >= 1 && dilation.h >= 1 && dilation.w >= 1, op,
              ": kernel_size, stride and dilation must be positive, got kernel (", kernel.h, ", ", kernel.w,
              "), stride (", s.h, ", ", s.w, "), dilation (", dilation.h, ", ", dilation.w, ")");
  NUDGE_CHECK(padding.h >= 0 && padding.w >= 0 && 2 * padding.h <= kernel.h && 2 * padding.w <= kernel.w, op,
              ": padding should be at most half of the kernel size, got padding (", padding.h, ", ", padding.w,
              ") for kernel (", kernel.h, ", ", kernel.w, ")");
  Pooling p{x.dim() == 3 ? x.unsqueeze(0) : x,
            WindowGeometry{{kernel.h, kernel.w}, {s.h, s.w}, {padding.h, padding.w}, {dilation.h, dilation.w}, {}}};
  for (int d = 0; d < 2; ++d)
    p.g.out[d] = detail::window_positions(p.image.size(2 + d), p.g.kernel[d], p.g.stride[d], p.g.padding[d],
                                          p.g.dilation[d], ceil_mode, op, x);
  return p;
}

/// [N, C, L] results back to x's rank: [N, C, oH, oW] or [C, oH, oW].
Tensor to_image(const Tensor& flat, const Tensor& x, const WindowGeometry& g) {
  const Tensor out = flat.reshape({flat.size(0), flat.size(1), g.out[0], g.out[1]});
  return x.dim() == 3 ? out.squeeze(0) : out;
}

}  // namespace

std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride,
                                                   Size2 padding, Size2 dilation, bool ceil_mode) {
  const Pooling p = pooling_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d");
  const Tensor cols = detail::windows(p.image, p.g, WindowLayout::Pool, -std::numeric_limits<double>::infinity());
  auto [values, window_index] = max(cols, 3);
  Tensor indices;
  {
    // Each window position's flat index h·W + w in the plane, by the same windows over an image
    // of indices; the maximum's is picked by its window index.
    NoGradGuard no_grad;
    const std::int64_t H = p.image.size(2), W = p.image.size(3);
    const Tensor plane = arange(H * W, TensorOptions(kInt64).device(x.device())).reshape({1, 1, H, W});
    const Tensor positions = detail::windows(plane, p.g, WindowLayout::Pool, -1);  // [1, 1, L, kk]
    indices =
        gather(positions.expand({cols.size(0), cols.size(1), cols.size(2), cols.size(3)}), 3, window_index.unsqueeze(3))
            .squeeze(3);
  }
  return {to_image(values, x, p.g), to_image(indices, x, p.g)};
}

Tensor max_pool2d(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride, Size2 padding, Size2 dilation,
                  bool ceil_mode) {
  const Pooling p = pooling_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d");
  const Tensor cols = detail::windows(p.image, p.g, WindowLayout::Pool, -std::numeric_limits<double>::infinity());
  return to_image(std::get<0>(max(cols, 3)), x, p.g);
}

Tensor avg_pool2d(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride, Size2 padding, bool ceil_mode,
                  bool count_include_pad, std::optional<std::int64_t> divisor_override) {
  const Pooling p = pooling_geometry(x, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d");
  NUDGE_CHECK(!divisor_override || *divisor_override != 0, "avg_pool2d: divisor must be not zero");
  const Tensor sums = sum(detail::windows(p.image, p.g, WindowLayout::Pool, 0), 3);  // [N, C, L]
  // Each window's divisor, as PyTorch computes it: the window clipped to the padded input (or to
  // the input itself without count_include_pad); the same for every plane.
  const std::int64_t H = p.image.size(2), W = p.image.size(3);
  std::vector<double> divisors(static_cast<std::size_t>(p.g.out[0] * p.g.out[1]));
  for (std::int64_t oh = 0; oh < p.g.out[0]; ++oh)
    for (std::int64_t ow = 0; ow < p.g.out[1]; ++ow) {
      std::int64_t h0 = oh * p.g.stride[0] - p.g.padding[0], w0 = ow * p.g.stride[1] - p.g.padding[1];
      std::int64_t h1 = std::min(h0 + p.g.kernel[0], H + p.g.padding[0]);
      std::int64_t w1 = std::min(w0 + p.g.kernel[1], W + p.g.padding[1]);
      const std::int64_t padded_size = (h1 - h0) * (w1 - w0);
      h0 = std::max<std::int64_t>(h0, 0), w0 = std::max<std::int64_t>(w0, 0);
      h1 = std::min(h1, H), w1 = std::min(w1, W);
      const std::int64_t inside = (h1 - h0) * (w1 - w0);
      divisors[static_cast<std::size_t>(oh * p.g.out[1] + ow)] =
          static_cast<double>(divisor_override    ? *divisor_override
                              : count_include_pad ? padded_size
                                                  : inside);
    }
  const Tensor divisor =
      tensor(divisors, Shape{static_cast<std::int64_t>(divisors.size())}, TensorOptions(x.dtype()).device(x.device()));
  return to_image(sums / divisor, x, p.g);
}

Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size) {
  detail::check_defined(x, "adaptive_avg_pool2d");
  detail::check_floating(x, "adaptive_avg_pool2d");
  NUDGE_CHECK(x.dim() == 3 || x.dim() == 4,
              "adaptive_avg_pool2d: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got a ", describe(x));
  NUDGE_CHECK(output_size.h >= 1 && output_size.w >= 1, "adaptive_avg_pool2d: output_size must be positive, got (",
              output_size.h, ", ", output_size.w, ")");
  const std::int64_t H = x.size(-2), W = x.size(-1);
  if (H == 0 || W == 0) {  // the mean of no elements, as in PyTorch: NaN (x's gradient: empty)
    Shape shape = x.shape();
    shape[shape.size() - 2] = output_size.h;
    shape[shape.size() - 1] = output_size.w;
    return full(shape, std::numeric_limits<double>::quiet_NaN(), TensorOptions(x.dtype()).device(x.device())) +
           sum(x) * 0.0;
  }
  // Along one dim at a time: window i covers [⌊i·in/out⌋, ⌈(i+1)·in/out⌉), at most `width` long;
  // its elements are gathered into [..., out, width] (slots past its end masked to 0 by a select,
  // never multiplied, so an inf stays in its own windows), summed and divided by its length.
  auto pool_dim = [&](const Tensor& t, std::int64_t dim, std::int64_t out) {
    const std::int64_t in = t.size(dim);
    const std::int64_t width = (in + out - 1) / out + 1;
    std::vector<std::int64_t> index(static_cast<std::size_t>(out * width));
    std::vector<double> keep(index.size()), length(static_cast<std::size_t>(out));
    for (std::int64_t i = 0; i < out; ++i) {
      const std::int64_t start = (i * in) / out, end = ((i + 1) * in + out - 1) / out;
      length[static_cast<std::size_t>(i)] = static_cast<double>(end - start);
      for (std::int64_t k = 0; k < width; ++k) {
        const auto slot = static_cast<std::size_t>(i * width + k);
        index[slot] = std::min(start + k, in - 1);
        keep[slot] = start + k < end ? 1 : 0;
      }
    }
    const auto on = TensorOptions(t.dtype()).device(t.device());
    Shape split = t.shape();  // [..., out·width, ...] -> [..., out, width, ...]
    split[static_cast<std::size_t>(dim)] = out;
    split.insert(split.begin() + dim + 1, width);
    Shape mask_shape(split.size(), 1);
    mask_shape[static_cast<std::size_t>(dim)] = out;
    mask_shape[static_cast<std::size_t>(dim + 1)] = width;
    Shape length_shape(t.dim(), 1);
    length_shape[static_cast<std::size_t>(dim)] = out;
    const Tensor gathered =
        index_select(t, dim, from_vector(index, Shape{out * width}, TensorOptions(kInt64).device(t.device())))
            .reshape(split);
    const Tensor mask = tensor(keep, mask_shape, on) > 0;
    return sum(where(mask, gathered, 0.0), dim + 1) / tensor(length, length_shape, on);
  };
  return pool_dim(pool_dim(x, x.dim() - 1, output_size.w), x.dim() - 2, output_size.h);
}

Tensor interpolate_nearest(const Tensor& x, std::int64_t scale_factor) {
  detail::check_defined(x, "interpolate");
  NUDGE_CHECK(x.dim() == 3 || x.dim() == 4, "interpolate: expected a 3-D [N, C, L] or 4-D [N, C, H, W] input, got a ",
              describe(x));
  NUDGE_CHECK(scale_factor >= 1, "interpolate: scale_factor must be a positive integer, got ", scale_factor);
  Tensor out = x;
  for (std::int64_t d = 2; d < x.dim(); ++d) {
    // Output position i reads input ⌊i / scale⌋.
    std::vector<std::int64_t> source(static_cast<std::size_t>(x.size(d) * scale_factor));
    for (std::size_t i = 0; i < source.size(); ++i) source[i] = static_cast<std::int64_t>(i) / scale_factor;
    out = index_select(
        out, d,
        from_vector(source, Shape{static_cast<std::int64_t>(source.size())}, TensorOptions(kInt64).device(x.device())));
  }
  return out;
}

}  // namespace nudge

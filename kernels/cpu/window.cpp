// CPU sliding windows (im2col / col2im, kernels/calls.h WindowCall) on nudge's thread pool: one
// (n, c) plane per task, with the window loops innermost and no division per element (the CUDA
// kernels' element-wise form, kernels/window_index.h, would cost a div and a mod per index here).
// Fold adds each plane's contributions in a fixed order into a wide accumulator (double for
// floats), so the result does not depend on the thread count.
#include <vector>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/parallel.h"
#include "kernels/window_index.h"

namespace nudge::kernels::cpu {

namespace {

/// Calls f(h, w, k, l) for every window element of one plane: k the window position, l the
/// output position, (h, w) the image position it reads (possibly outside the image).
template <class F> void for_each_window_element(const WindowCall& call, F f) {
  for (std::int64_t ki = 0; ki < call.kernel[0]; ++ki)
    for (std::int64_t kj = 0; kj < call.kernel[1]; ++kj) {
      const std::int64_t k = ki * call.kernel[1] + kj;
      for (std::int64_t oh = 0; oh < call.out_size[0]; ++oh) {
        const std::int64_t h = oh * call.stride[0] - call.padding[0] + ki * call.dilation[0];
        const std::int64_t w0 = kj * call.dilation[1] - call.padding[1];
        for (std::int64_t ow = 0; ow < call.out_size[1]; ++ow)
          f(h, w0 + ow * call.stride[1], k, oh * call.out_size[1] + ow);
      }
    }
}

template <class T> void unfold_plane(const WindowCall& call, std::int64_t n, std::int64_t c) {
  const std::int64_t* is = call.image_strides;
  const std::int64_t* cs = call.cols_strides;
  const T* image = static_cast<const T*>(call.image) + n * is[0] + c * is[1];
  T* cols = static_cast<T*>(call.cols) + n * cs[0] + c * cs[1];
  const T pad = static_cast<T>(call.pad_value);
  for_each_window_element(call, [&](std::int64_t h, std::int64_t w, std::int64_t k, std::int64_t l) {
    const bool inside = h >= 0 && h < call.height && w >= 0 && w < call.width;
    cols[k * cs[2] + l * cs[3]] = inside ? image[h * is[2] + w * is[3]] : pad;
  });
}

template <class T, class Acc> void fold_plane(const WindowCall& call, std::int64_t n, std::int64_t c, Acc* sums) {
  const std::int64_t* is = call.image_strides;
  const std::int64_t* cs = call.cols_strides;
  const T* cols = static_cast<const T*>(call.cols) + n * cs[0] + c * cs[1];
  T* image = static_cast<T*>(call.image) + n * is[0] + c * is[1];
  std::fill(sums, sums + call.height * call.width, Acc(0));
  for_each_window_element(call, [&](std::int64_t h, std::int64_t w, std::int64_t k, std::int64_t l) {
    if (h >= 0 && h < call.height && w >= 0 && w < call.width)
      sums[h * call.width + w] += static_cast<Acc>(cols[k * cs[2] + l * cs[3]]);
  });
  for (std::int64_t h = 0; h < call.height; ++h)
    for (std::int64_t w = 0; w < call.width; ++w)
      image[h * is[2] + w * is[3]] = static_cast<T>(sums[h * call.width + w]);
}

/// Whether cols is a convolution's rows [N, L, C, kk] (dense): then the loops below run in its
/// memory order, one sample per task, instead of striding across rows plane by plane.
bool rows_layout(const WindowCall& call) {
  const std::int64_t kk = call.window();
  return call.cols_strides[2] == 1 && call.cols_strides[1] == kk && call.cols_strides[3] == call.channels * kk;
}

/// Calls f(c, h, w, index) for sample n's cols in memory order (position, channel, window).
template <class F> void for_each_row_element(const WindowCall& call, F f) {
  std::int64_t index = 0;
  for (std::int64_t oh = 0; oh < call.out_size[0]; ++oh)
    for (std::int64_t ow = 0; ow < call.out_size[1]; ++ow)
      for (std::int64_t c = 0; c < call.channels; ++c)
        for (std::int64_t ki = 0; ki < call.kernel[0]; ++ki) {
          const std::int64_t h = oh * call.stride[0] - call.padding[0] + ki * call.dilation[0];
          for (std::int64_t kj = 0; kj < call.kernel[1]; ++kj, ++index)
            f(c, h, ow * call.stride[1] - call.padding[1] + kj * call.dilation[1], index);
        }
}

template <class T> void unfold_rows(const WindowCall& call, std::int64_t n) {
  const std::int64_t* is = call.image_strides;
  const T* image = static_cast<const T*>(call.image) + n * is[0];
  T* cols = static_cast<T*>(call.cols) + n * call.cols_strides[0];
  const T pad = static_cast<T>(call.pad_value);
  for_each_row_element(call, [&](std::int64_t c, std::int64_t h, std::int64_t w, std::int64_t i) {
    const bool inside = h >= 0 && h < call.height && w >= 0 && w < call.width;
    cols[i] = inside ? image[c * is[1] + h * is[2] + w * is[3]] : pad;
  });
}

template <class T, class Acc> void fold_rows(const WindowCall& call, std::int64_t n, Acc* sums) {
  const std::int64_t* is = call.image_strides;
  const std::int64_t plane = call.height * call.width;
  const T* cols = static_cast<const T*>(call.cols) + n * call.cols_strides[0];
  T* image = static_cast<T*>(call.image) + n * is[0];
  std::fill(sums, sums + call.channels * plane, Acc(0));
  for_each_row_element(call, [&](std::int64_t c, std::int64_t h, std::int64_t w, std::int64_t i) {
    if (h >= 0 && h < call.height && w >= 0 && w < call.width)
      sums[c * plane + h * call.width + w] += static_cast<Acc>(cols[i]);
  });
  for (std::int64_t c = 0; c < call.channels; ++c)
    for (std::int64_t h = 0; h < call.height; ++h)
      for (std::int64_t w = 0; w < call.width; ++w)
        image[c * is[1] + h * is[2] + w * is[3]] = static_cast<T>(sums[c * plane + h * call.width + w]);
}

}  // namespace

void window(int, const WindowCall& call) {
  if (window_work(call) == 0) return;
  const std::int64_t planes = call.batch * call.channels;
  const std::int64_t cost = call.window() * call.positions();
  if (rows_layout(call)) {
    const std::int64_t sample_cost = cost * call.channels;
    visit_numeric_dtype(call.dtype, call.fold ? "fold" : "unfold", [&](auto tag) {
      using T = decltype(tag);
      using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
      parallel_for_items(
          call.batch, sample_cost, 1, RangeBody([&](std::int64_t begin, std::int64_t end) {
            std::vector<Acc> sums(call.fold ? static_cast<std::size_t>(call.channels * call.height * call.width) : 0);
            for (std::int64_t n = begin; n < end; ++n)
              call.fold ? fold_rows<T, Acc>(call, n, sums.data()) : unfold_rows<T>(call, n);
          }));
    });
    return;
  }
  if (call.fold) {
    visit_numeric_dtype(call.dtype, "fold", [&](auto tag) {
      using T = decltype(tag);
      using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
      parallel_for_items(planes, cost, 1, RangeBody([&](std::int64_t begin, std::int64_t end) {
                           std::vector<Acc> sums(static_cast<std::size_t>(call.height * call.width));
                           for (std::int64_t p = begin; p < end; ++p)
                             fold_plane<T, Acc>(call, p / call.channels, p % call.channels, sums.data());
                         }));
    });
    return;
  }
  visit_numeric_dtype(call.dtype, "unfold", [&](auto tag) {
    using T = decltype(tag);
    parallel_for_items(planes, cost, 1, RangeBody([&](std::int64_t begin, std::int64_t end) {
                         for (std::int64_t p = begin; p < end; ++p)
                           unfold_plane<T>(call, p / call.channels, p % call.channels);
                       }));
  });
}

}  // namespace nudge::kernels::cpu

#pragma once
/// One element of a WindowCall (kernels/calls.h), on host and device: the CPU and CUDA backends
/// run the same arithmetic, so they agree to the bit.
#include "kernels/calls.h"
#include "kernels/functors.h"

namespace nudge::kernels {

/// Unfold, element `linear` of cols in [n, c, k, l] order: copies the image element its window
/// position reads, or the pad value.
template <class T> NUDGE_HD void unfold_element(const WindowCall& call, std::int64_t linear) {
  const std::int64_t positions = call.positions(), window = call.window();
  const std::int64_t l = linear % positions;
  std::int64_t rest = linear / positions;
  const std::int64_t k = rest % window;
  rest /= window;
  const std::int64_t c = rest % call.channels, n = rest / call.channels;
  const std::int64_t oh = l / call.out_size[1], ow = l % call.out_size[1];
  const std::int64_t ki = k / call.kernel[1], kj = k % call.kernel[1];
  const std::int64_t h = oh * call.stride[0] - call.padding[0] + ki * call.dilation[0];
  const std::int64_t w = ow * call.stride[1] - call.padding[1] + kj * call.dilation[1];
  const std::int64_t* is = call.image_strides;
  const std::int64_t* cs = call.cols_strides;
  T value = static_cast<T>(call.pad_value);
  if (h >= 0 && h < call.height && w >= 0 && w < call.width)
    value = static_cast<const T*>(call.image)[n * is[0] + c * is[1] + h * is[2] + w * is[3]];
  static_cast<T*>(call.cols)[n * cs[0] + c * cs[1] + k * cs[2] + l * cs[3]] = value;
}

/// First and one-past-last output position along one dim whose window can reach `pos` (a range
/// that may still hold positions whose window steps over it; the caller checks each).
NUDGE_HD void fold_range(std::int64_t pos, std::int64_t kernel, std::int64_t stride, std::int64_t padding,
                         std::int64_t dilation, std::int64_t out, std::int64_t& first, std::int64_t& last) {
  const std::int64_t reach = pos + padding;           // = o·stride + k·dilation
  const std::int64_t span = (kernel - 1) * dilation;  // the window's extent past its start
  first = reach < span ? 0 : (reach - span + stride - 1) / stride;
  last = reach / stride + 1;
  if (last > out) last = out;
}

/// Fold, element `linear` of the image in [n, c, h, w] order: the sum of every cols element whose
/// window reads it, accumulated in Acc (double for floats), in increasing (oh, ow) order.
template <class T, class Acc> NUDGE_HD void fold_element(const WindowCall& call, std::int64_t linear) {
  const std::int64_t w = linear % call.width;
  std::int64_t rest = linear / call.width;
  const std::int64_t h = rest % call.height;
  rest /= call.height;
  const std::int64_t c = rest % call.channels, n = rest / call.channels;
  std::int64_t oh0, oh1, ow0, ow1;
  fold_range(h, call.kernel[0], call.stride[0], call.padding[0], call.dilation[0], call.out_size[0], oh0, oh1);
  fold_range(w, call.kernel[1], call.stride[1], call.padding[1], call.dilation[1], call.out_size[1], ow0, ow1);
  const std::int64_t* cs = call.cols_strides;
  const T* cols = static_cast<const T*>(call.cols) + n * cs[0] + c * cs[1];
  Acc sum = 0;
  for (std::int64_t oh = oh0; oh < oh1; ++oh) {
    const std::int64_t dh = h + call.padding[0] - oh * call.stride[0];  // = ki·dilation
    if (dh % call.dilation[0] != 0) continue;
    const std::int64_t ki = dh / call.dilation[0];
    if (ki < 0 || ki >= call.kernel[0]) continue;
    for (std::int64_t ow = ow0; ow < ow1; ++ow) {
      const std::int64_t dw = w + call.padding[1] - ow * call.stride[1];
      if (dw % call.dilation[1] != 0) continue;
      const std::int64_t kj = dw / call.dilation[1];
      if (kj < 0 || kj >= call.kernel[1]) continue;
      sum += static_cast<Acc>(cols[(ki * call.kernel[1] + kj) * cs[2] + (oh * call.out_size[1] + ow) * cs[3]]);
    }
  }
  const std::int64_t* is = call.image_strides;
  static_cast<T*>(call.image)[n * is[0] + c * is[1] + h * is[2] + w * is[3]] = static_cast<T>(sum);
}

/// Elements the kernel writes: cols for Unfold, the image for Fold.
inline std::int64_t window_work(const WindowCall& call) {
  return call.fold ? call.batch * call.channels * call.height * call.width
                   : call.batch * call.channels * call.window() * call.positions();
}

}  // namespace nudge::kernels

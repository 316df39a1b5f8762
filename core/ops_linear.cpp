// linear(x, W, b, act) = act(x·Wᵀ + b): the Dense layer as one fused op.
//   forward:  one GEMM into Z, then ONE kernel adding the bias and applying the activation in place;
//   backward: ONE kernel for dZ = dY ⊙ act'(Y) together with the bias gradient (column sums),
//             then dW = dZᵀ·X and dX = dZ·W as two GEMMs (each only when needed).
// The generic composition (matmul, add, sigmoid, ...) gives the same numbers; tests compare them.
#include "core/autograd/grad_mode.h"
#include "core/autograd/node.h"
#include "kernels/dispatch.h"
#include "core/factory.h"
#include "core/ops.h"
#include "core/ops_checks.h"
#include "core/ops_internal.h"

// core reaches the backends only through the dispatch tables and the plain-data calls.
using namespace nudge::kernels;  // NOLINT(google-build-using-namespace)

namespace nudge {

std::pair<Tensor, Tensor> detail::activation_grad(const Tensor& grad_y, const Tensor& y, Activation act,
                                                  bool bias_grad) {
  const std::int64_t rows = bias_grad ? y.size(0) : 1, cols = bias_grad ? y.size(1) : y.numel();
  const Tensor g = grad_y.contiguous();
  Tensor grad_z = empty_like(y);
  Tensor grad_bias = bias_grad ? empty({cols}, TensorOptions(y.dtype()).device(y.device())) : Tensor();
  ActivationBackwardCall call{y.dtype(),
                              act,
                              rows,
                              cols,
                              g.data_ptr(),
                              y.data_ptr(),
                              grad_z.data_ptr(),
                              bias_grad ? grad_bias.data_ptr() : nullptr};
  if (y.numel() > 0) dispatch::activation_backward.get(y.device(), "activation backward")(y.device().index(), call);
  else if (bias_grad) grad_bias.fill_(0);
  return {grad_z, grad_bias};
}

Tensor activation(const Tensor& x, Activation act) {
  detail::check_defined(x, "activation");
  detail::check_floating(x, "activation");
  if (act == Activation::Identity) return x;
  Tensor y = x.contiguous().clone().detach();
  if (y.numel() > 0) {
    const BiasActivationCall call{y.dtype(), act, 1, y.numel(), y.data_ptr(), nullptr};
    dispatch::bias_activation.get(y.device(), "activation")(y.device().index(), call);
  }
  NUDGE_RECORD("activation", y, (&x), [y_ = autograd::SavedTensor(y, "activation", true), act](const Tensor& g) {
    return autograd::Grads{detail::activation_grad(g, y_.get(), act).first};
  });
  return y;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, Activation act) {
  detail::check_defined(x, "linear");
  detail::check_defined(weight, "linear");
  detail::check_same_device_and_dtype(x, weight, "linear");
  detail::check_floating(x, "linear");
  NUDGE_CHECK(weight.dim() == 2 && x.dim() >= 1 && x.size(-1) == weight.size(1), "linear: input ", describe(x),
              " does not fit weight ", describe(weight), " (expected input [..., ",
              weight.dim() == 2 ? weight.size(1) : -1, "] and weight [out, in])");
  if (bias.defined()) {
    detail::check_same_device_and_dtype(x, bias, "linear");
    NUDGE_CHECK(bias.dim() == 1 && bias.size(0) == weight.size(0), "linear: bias ", describe(bias),
                " does not fit weight ", describe(weight), " (expected bias [", weight.size(0), "])");
  }
  const std::int64_t in = weight.size(1), out_features = weight.size(0);
  Shape out_shape = x.shape();
  out_shape.back() = out_features;
  std::int64_t rows = 1;  // not reshape({-1, in}): with in = 0 the -1 would be ambiguous
  for (std::int64_t d = 0; d + 1 < x.dim(); ++d) rows *= x.size(d);
  const Tensor x2 = x.reshape({rows, in});

  Tensor y;
  {
    NoGradGuard no_grad;  // the GEMM is recorded as part of this op's node, not on its own
    y = matmul(x2, weight.t());
  }
  const Tensor b = bias.defined() ? bias.contiguous() : Tensor();
  if (y.numel() > 0 && (act != Activation::Identity || b.defined())) {
    BiasActivationCall call{y.dtype(), act, y.size(0), y.size(1), y.data_ptr(), b.defined() ? b.data_ptr() : nullptr};
    dispatch::bias_activation.get(y.device(), "linear")(y.device().index(), call);
  }
  y = y.view(out_shape);

  if (autograd::needs_grad({&x, &weight, &bias})) {
    const bool need_x = x.requires_grad(), need_w = weight.requires_grad();
    const bool need_b = bias.defined() && bias.requires_grad();
    const Tensor y2 = y.view({rows, out_features});
    auto backward = [x_ = autograd::SavedTensor(x2, "linear"), w_ = autograd::SavedTensor(weight, "linear"),
                     y_ = autograd::SavedTensor(y2, "linear", true), act, need_x, need_w, need_b,
                     has_bias = bias.defined(), x_shape = x.shape()](const Tensor& g) {
      const Tensor& y_saved = y_.get();
      const Tensor g2 = g.reshape({y_saved.size(0), y_saved.size(1)});
      Tensor grad_z = g2, grad_bias;
      if (act != Activation::Identity || need_b)
        std::tie(grad_z, grad_bias) = detail::activation_grad(g2, y_saved, act, need_b);
      autograd::Grads grads(has_bias ? 3 : 2);
      if (need_x) grads[0] = matmul(grad_z, w_.get()).view(x_shape);
      if (need_w) grads[1] = matmul(grad_z.t(), x_.get());
      if (need_b) grads[2] = grad_bias;
      return grads;
    };
    if (bias.defined()) NUDGE_RECORD("linear", y, (&x, &weight, &bias), std::move(backward));
    else NUDGE_RECORD("linear", y, (&x, &weight), std::move(backward));
  }
  return y;
}

}  // namespace nudge

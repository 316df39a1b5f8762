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
#include "kernels/functors.h"

// core reaches the backends only through the dispatch tables and the plain-data calls.
using namespace nudge::kernels;  // NOLINT(google-build-using-namespace)

namespace nudge {

bool detail::activation_needs_input(const ActivationSpec& act) { return fn::activation_grad_needs_input(act); }

namespace {

void check_activation(const ActivationSpec& act, const char* op) {
  NUDGE_CHECK(std::isfinite(act.param) && !std::isnan(act.threshold), op, ": ", activation_name(act.kind),
              " needs a finite parameter, got ", act.param);
  NUDGE_CHECK(act.kind != Activation::Softplus || act.param != 0, op, ": softplus needs beta != 0");
}

}  // namespace

std::pair<Tensor, Tensor> detail::activation_grad(const Tensor& grad_y, const Tensor& y, ActivationSpec act,
                                                  bool bias_grad, const Tensor& z) {
  const std::int64_t rows = bias_grad ? y.size(0) : 1, cols = bias_grad ? y.size(1) : y.numel();
  NUDGE_CHECK(!activation_needs_input(act) || z.defined(), activation_name(act.kind),
              " backward: the activation's input was not kept");
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
                              bias_grad ? grad_bias.data_ptr() : nullptr,
                              z.defined() ? z.data_ptr() : nullptr};
  if (y.numel() > 0) dispatch::activation_backward.run(y.device(), "activation backward", call);
  else if (bias_grad) grad_bias.fill_(0);
  return {grad_z, grad_bias};
}

Tensor activation(const Tensor& x, ActivationSpec act) {
  const char* name = activation_name(act.kind);
  detail::check_defined(x, name);
  detail::check_floating(x, name);
  check_activation(act, name);
  if (act.kind == Activation::Identity) return x;
  const bool keep_input = detail::activation_needs_input(act);
  // The kernel works in place on a dense copy; an input the backward reads is kept dense too.
  const Tensor z = keep_input ? x.contiguous().detach() : Tensor();
  Tensor y = x.contiguous().clone().detach();
  if (y.numel() > 0) {
    const BiasActivationCall call{y.dtype(), act, 1, y.numel(), y.data_ptr(), nullptr};
    dispatch::bias_activation.run(y.device(), name, call);
  }
  NUDGE_RECORD(
      name, y, (&x),
      [y_ = autograd::SavedTensor(y, name, true),
       z_ = keep_input ? autograd::SavedTensor(z, name) : autograd::SavedTensor(), keep_input, act](const Tensor& g) {
        const Tensor input = keep_input ? z_.get() : Tensor();
        return autograd::Grads{detail::activation_grad(g, y_.get(), act, false, input).first};
      });
  return y;
}

Tensor gelu(const Tensor& x, std::string_view approximate) {
  NUDGE_CHECK(approximate == "none" || approximate == "tanh", "gelu: approximate must be 'none' or 'tanh', got '",
              approximate, "'");
  return activation(x, approximate == "tanh" ? Activation::GELUTanh : Activation::GELU);
}
Tensor silu(const Tensor& x) { return activation(x, Activation::SiLU); }
Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return activation(x, {Activation::LeakyReLU, negative_slope});
}
Tensor softplus(const Tensor& x, double beta, double threshold) {
  return activation(x, {Activation::Softplus, beta, threshold});
}
Tensor elu(const Tensor& x, double alpha) { return activation(x, {Activation::ELU, alpha}); }

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, ActivationSpec act) {
  detail::check_defined(x, "linear");
  check_activation(act, "linear");
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
  // A 2-D input (the usual case) is used as is: each view is a tensor to allocate.
  const Tensor x2 = x.dim() == 2 ? x : x.reshape({rows, in});

  Tensor y;
  {
    NoGradGuard no_grad;  // the GEMM is recorded as part of this op's node, not on its own
    y = matmul(x2, weight.t());
  }
  const Tensor b = bias.defined() ? bias.contiguous() : Tensor();
  // An activation whose gradient reads its input keeps z = x·Wᵀ + b, written by the same kernel
  // (only when a backward will need it).
  const bool keep_z = detail::activation_needs_input(act) && autograd::needs_grad({&x, &weight, &bias});
  const Tensor z = keep_z ? empty_like(y) : Tensor();
  if (y.numel() > 0 && (act.kind != Activation::Identity || b.defined())) {
    BiasActivationCall call{y.dtype(),
                            act,
                            y.size(0),
                            y.size(1),
                            y.data_ptr(),
                            b.defined() ? b.data_ptr() : nullptr,
                            keep_z ? z.data_ptr() : nullptr};
    dispatch::bias_activation.run(y.device(), "linear", call);
  }
  if (y.shape() != out_shape) y = y.view(out_shape);

  if (autograd::needs_grad({&x, &weight, &bias})) {
    const bool need_x = x.requires_grad(), need_w = weight.requires_grad();
    const bool need_b = bias.defined() && bias.requires_grad();
    const Tensor y2 = y.dim() == 2 ? y : y.view({rows, out_features});
    auto backward = [x_ = autograd::SavedTensor(x2, "linear"), w_ = autograd::SavedTensor(weight, "linear"),
                     y_ = autograd::SavedTensor(y2, "linear", true),
                     z_ = keep_z ? autograd::SavedTensor(z, "linear") : autograd::SavedTensor(), keep_z, act, need_x,
                     need_w, need_b, has_bias = bias.defined(), x_shape = x.shape()](const Tensor& g) {
      const Tensor& y_saved = y_.get();
      const Tensor g2 = g.shape() == y_saved.shape() ? g : g.reshape({y_saved.size(0), y_saved.size(1)});
      Tensor grad_z = g2, grad_bias;
      if (act.kind != Activation::Identity || need_b)
        std::tie(grad_z, grad_bias) = detail::activation_grad(g2, y_saved, act, need_b, keep_z ? z_.get() : Tensor());
      autograd::Grads grads(has_bias ? 3 : 2);
      if (need_x) {
        grads[0] = matmul(grad_z, w_.get());
        if (grads[0].shape() != x_shape) grads[0] = grads[0].view(x_shape);
      }
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

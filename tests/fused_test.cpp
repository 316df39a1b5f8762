// The fused Dense op (nudge::linear, nn::Linear, Sequential fusion) gives the numbers of the
// generic composition it replaces, and costs what it promises: forward = 1 GEMM + 1 kernel,
// backward = 1 kernel + 2 GEMMs.
#include "test_util.h"

namespace nudge::testing {
namespace {

using profiling::LaunchCounter;

/// act(z) through the generic ops, independent of the activation table the fused kernels share
/// (exact GELU needs erf, which only the table has: gradcheck and PyTorch's values cover it).
Tensor composed_activation(const Tensor& z, const ActivationSpec& act) {
  switch (act.kind) {
    case Activation::Identity: return z;
    case Activation::Sigmoid: return sigmoid(z);
    case Activation::ReLU: return relu(z);
    case Activation::Tanh: return tanh(z);
    case Activation::GELUTanh: return 0.5 * z * (1 + tanh(0.7978845608028654 * (z + 0.044715 * z * z * z)));
    case Activation::SiLU: return z * sigmoid(z);
    case Activation::LeakyReLU: return relu(z) - act.param * relu(-z);
    case Activation::Softplus:  // z itself past the threshold
      return where(z * act.param > act.threshold, z, log1p(exp(z * act.param)) / act.param);
    case Activation::ELU: return relu(z) + act.param * expm1(-relu(-z));
    case Activation::GELU: break;
  }
  ADD_FAILURE() << "no composition for " << activation_name(act.kind);
  return z;
}

Tensor composed(const Tensor& x, const Tensor& w, const Tensor& b, const ActivationSpec& act) {
  Tensor z = matmul(x, w.t());
  if (b.defined()) z = z + b;
  return composed_activation(z, act);
}

/// Every activation with a composition, with non-default parameters where it takes one.
const std::vector<ActivationSpec> kComposable = {Activation::Identity,
                                                 Activation::Sigmoid,
                                                 Activation::ReLU,
                                                 Activation::Tanh,
                                                 Activation::GELUTanh,
                                                 Activation::SiLU,
                                                 {Activation::LeakyReLU, 0.2},
                                                 {Activation::Softplus, 2.0},
                                                 {Activation::ELU, 0.7}};

struct Case {
  std::int64_t rows, in, out;
};

class FusedLinearTest : public DeviceTest {};

TEST_P(FusedLinearTest, EqualsTheComposition) {
  const std::vector<Case> cases = {{1, 1, 1}, {3, 5, 7}, {17, 31, 9}, {64, 33, 16}, {65537, 3, 16}, {5, 2, 1}};
  for (const DType dtype : {kFloat64, kFloat32}) {
    const double tol = dtype == kFloat64 ? 1e-12 : 1e-5;
    for (const Case& c : cases) {
      for (const ActivationSpec& act : kComposable) {
        for (const bool with_bias : {true, false}) {
          SCOPED_TRACE(::testing::Message() << dtype_name(dtype) << " [" << c.rows << ", " << c.in << "] -> " << c.out
                                            << " act " << activation_name(act.kind) << " bias " << with_bias);
          Generator gen(c.rows * 31 + c.in);
          const auto on = options(dtype);
          auto leaf = [&](Shape s) { return randn(s, gen, on).requires_grad_(); };
          const Tensor x = leaf({c.rows, c.in}), w = leaf({c.out, c.in});
          const Tensor b = with_bias ? leaf({c.out}) : Tensor();
          const Tensor x2 = x.detach().clone().requires_grad_(), w2 = w.detach().clone().requires_grad_();
          const Tensor b2 = with_bias ? b.detach().clone().requires_grad_() : Tensor();
          const Tensor g = randn({c.rows, c.out}, gen, on);

          const Tensor fused = linear(x, w, b, act);
          const Tensor reference = composed(x2, w2, b2, act);
          ASSERT_TRUE(all_close(fused, reference, tol, tol));
          fused.backward(g);
          reference.backward(g);
          // Bias gradients are sums over up to 65537 rows: allow for the summation order.
          const double sum_tol = tol * std::max<double>(1.0, std::sqrt(static_cast<double>(c.rows)));
          EXPECT_TRUE(all_close(x.grad(), x2.grad(), tol, tol));
          EXPECT_TRUE(all_close(w.grad(), w2.grad(), sum_tol, tol));
          if (with_bias) {
            EXPECT_TRUE(all_close(b.grad(), b2.grad(), sum_tol, tol));
          }
        }
      }
    }
  }
}

TEST_P(FusedLinearTest, ForwardIsOneGemmPlusOneKernelBackwardOneKernelPlusTwoGemms) {
  Generator gen(1);
  Tensor x = randn({64, 20}, gen, options()).requires_grad_();
  Tensor w = randn({10, 20}, gen, options()).requires_grad_();
  Tensor b = randn({10}, gen, options()).requires_grad_();
  const Tensor g = randn({64, 10}, gen, options());
  for (const ActivationSpec& act : kComposable) {
    x.set_grad({}), w.set_grad({}), b.set_grad({});
    LaunchCounter forward_counter;
    const Tensor y = linear(x, w, b, act);
    EXPECT_EQ(forward_counter.counts().gemms, 1);
    EXPECT_EQ(forward_counter.counts().kernels, 1);
    LaunchCounter backward_counter;
    y.backward(g);
    EXPECT_EQ(backward_counter.counts().kernels, 1);
    EXPECT_EQ(backward_counter.counts().gemms, 2);
  }
  // Without a gradient for the input (a first layer), backward is one kernel and one GEMM.
  const Tensor data = randn({64, 20}, gen, options());
  w.set_grad({}), b.set_grad({});  // accumulating into existing gradients would add a kernel each
  const Tensor y = linear(data, w, b, Activation::Sigmoid);
  LaunchCounter counter;
  y.backward(g);
  EXPECT_EQ(counter.counts().kernels, 1);
  EXPECT_EQ(counter.counts().gemms, 1);
}

TEST_P(FusedLinearTest, LinearWithAnActivationIsOneFusedOpAndSequentialOnlyComposes) {
  manual_seed(5);
  nn::Sequential fused(nn::Linear(2, 16, nn::Activation::Sigmoid), nn::Linear(16, 1, nn::Activation::Sigmoid));
  fused.to(device());
  Generator gen(2);
  const Tensor x = randn({4, 2}, gen, options());
  LaunchCounter counter;
  const Tensor y = fused(x);
  EXPECT_EQ(counter.counts().gemms, 2);
  EXPECT_EQ(counter.counts().kernels, 2);
  // The same parameters through the generic ops.
  const auto p = fused.parameters();
  const Tensor reference = sigmoid(matmul(sigmoid(matmul(x, p[0].t()) + p[1]), p[2].t()) + p[3]);
  EXPECT_TRUE(all_close(y, reference, 1e-6, 1e-5));
  // Sequential composes what it is given: a separate Sigmoid module is a separate op.
  manual_seed(5);
  nn::Sequential composed(nn::Linear(2, 16), nn::Sigmoid(), nn::Linear(16, 1), nn::Sigmoid());
  composed.to(device());
  LaunchCounter composed_counter;
  const Tensor z = composed(x);
  EXPECT_EQ(composed_counter.counts().gemms, 2);
  EXPECT_EQ(composed_counter.counts().kernels, 4);  // bias kernel + sigmoid, per layer
  EXPECT_TRUE(all_close(z, y, 1e-6, 1e-5));
  // Linear's own activation option with a bias: one GEMM, one kernel.
  nn::Linear dense(3, 4, nn::Activation::Tanh);
  dense.to(device());
  const Tensor in = randn({5, 3}, gen, options());
  LaunchCounter dense_counter;
  const Tensor out = dense(in);
  EXPECT_EQ(dense_counter.counts().gemms, 1);
  EXPECT_EQ(dense_counter.counts().kernels, 1);
  EXPECT_TRUE(all_close(out, tanh(matmul(in, dense.weight.t()) + dense.bias), 1e-6, 1e-5));
}

TEST_P(FusedLinearTest, BatchedInputsAndGradcheck) {
  Generator gen(3);
  const Tensor x = randn({2, 3, 4}, gen, options(kFloat64)).requires_grad_();
  const Tensor w = randn({5, 4}, gen, options(kFloat64)).requires_grad_();
  const Tensor b = randn({5}, gen, options(kFloat64)).requires_grad_();
  const Tensor y = linear(x, w, b, Activation::Tanh);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 5}));
  std::vector<ActivationSpec> acts = kComposable;
  acts.emplace_back(Activation::GELU);
  acts.emplace_back(Activation::LeakyReLU, -0.3);  // a negative slope: the backward reads z
  for (const ActivationSpec& act : acts) {
    SCOPED_TRACE(activation_name(act.kind));
    const auto result = autograd::gradcheck(
        [act](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2], act); }, {x, w, b});
    EXPECT_TRUE(result.ok) << result.report;
  }
}

TEST_P(FusedLinearTest, BadShapesAreClearErrors) {
  const Tensor x = zeros({4, 3}, options()), w = zeros({2, 5}, options());
  EXPECT_TRUE(throws_error_with([&] { linear(x, w); }, {"linear", "[4, 3]", "[2, 5]"}));
  EXPECT_TRUE(throws_error_with(
      [&] {
        linear(x, zeros({2, 3}, options()), zeros({3}, options()));
      },
      {"linear: bias", "[3]", "expected bias [2]"}));
  EXPECT_TRUE(throws_error_with(
      [&] {
        linear(x, zeros({2, 3}, options(kFloat64)));
      },
      {"linear", "float32", "float64"}));
}

// ---- one-launch optimizer steps ------------------------------------------------------------

/// The per-tensor reference: optim/sgd.h's and optim/adam.h's rules written with tensor ops.
struct ReferenceOptimizer {
  std::string kind;  // "sgd", "nesterov", "adam", "adamw"
  double lr = 0.05, momentum = 0.9, dampening = 0.1, weight_decay = 0.01;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  std::vector<Tensor> buf, m, v;
  int t = 0;

  void step(std::vector<Tensor>& params, const std::vector<Tensor>& grads) {
    ++t;
    for (std::size_t i = 0; i < params.size(); ++i) {
      Tensor& p = params[i];
      Tensor g = grads[i];
      if (kind == "sgd" || kind == "nesterov") {
        g = g + p * weight_decay;
        if (buf.size() <= i) buf.push_back(g.clone());
        else buf[i] = buf[i] * momentum + g * (1 - (kind == "nesterov" ? 0 : dampening));
        g = kind == "nesterov" ? g + buf[i] * momentum : buf[i];
        p = p - g * lr;
      } else {
        if (kind == "adamw") p = p * (1 - lr * weight_decay);
        else g = g + p * weight_decay;
        if (m.size() <= i) m.push_back(zeros_like(p)), v.push_back(zeros_like(p));
        m[i] = m[i] * beta1 + g * (1 - beta1);
        v[i] = v[i] * beta2 + g * g * (1 - beta2);
        const double bias1 = 1 - std::pow(beta1, t), bias2 = 1 - std::pow(beta2, t);
        p = p - m[i] / (sqrt(v[i]) / std::sqrt(bias2) + eps) * (lr / bias1);
      }
    }
  }
};

std::unique_ptr<optim::Optimizer> make_optimizer(const ReferenceOptimizer& r, std::vector<Tensor> params) {
  if (r.kind == "sgd")
    return std::make_unique<optim::SGD>(
        params, optim::SGDOptions{
                    .lr = r.lr, .momentum = r.momentum, .dampening = r.dampening, .weight_decay = r.weight_decay});
  if (r.kind == "nesterov")
    return std::make_unique<optim::SGD>(
        params,
        optim::SGDOptions{.lr = r.lr, .momentum = r.momentum, .weight_decay = r.weight_decay, .nesterov = true});
  const optim::AdamOptions o{
      .lr = r.lr, .beta1 = r.beta1, .beta2 = r.beta2, .eps = r.eps, .weight_decay = r.weight_decay};
  if (r.kind == "adam") return std::make_unique<optim::Adam>(params, o);
  return std::make_unique<optim::AdamW>(
      params, optim::AdamWOptions{
                  .lr = o.lr, .beta1 = o.beta1, .beta2 = o.beta2, .eps = o.eps, .weight_decay = o.weight_decay});
}

class OptimizerStepTest : public DeviceTest {};

TEST_P(OptimizerStepTest, OneLaunchEqualsPerTensorUpdates) {
  const std::vector<Shape> shapes = {{1}, {3, 5}, {4097}, {65537}, {16, 2}};
  for (const DType dtype : {kFloat64, kFloat32}) {
    const double tol = dtype == kFloat64 ? 1e-12 : 1e-5;
    for (const std::string kind : {"sgd", "nesterov", "adam", "adamw"}) {
      SCOPED_TRACE(kind + " " + std::string(dtype_name(dtype)));
      Generator gen(9);
      std::vector<Tensor> params, reference_params;
      for (const Shape& s : shapes) {
        params.push_back(randn(s, gen, options(dtype)).requires_grad_());
        reference_params.push_back(params.back().detach().clone());
      }
      ReferenceOptimizer reference{kind};
      auto optimizer = make_optimizer(reference, params);
      for (int step = 0; step < 5; ++step) {
        std::vector<Tensor> grads;
        for (const Tensor& p : params) grads.push_back(randn(p.shape(), gen, options(dtype)));
        for (std::size_t i = 0; i < params.size(); ++i) params[i].set_grad(grads[i].clone());
        optimizer->step();
        reference.step(reference_params, grads);
      }
      for (std::size_t i = 0; i < params.size(); ++i)
        EXPECT_TRUE(all_close(params[i], reference_params[i], tol, tol)) << i;
    }
  }
}

TEST_P(OptimizerStepTest, AStepIsOneKernelWhateverTheNumberOfParameters) {
  for (const std::string kind : {"sgd", "nesterov", "adam", "adamw"}) {
    for (const int count : {1, 7, 300}) {  // 300 > one CUDA launch's table: still one per 200 on CUDA
      SCOPED_TRACE(kind + " x" + std::to_string(count));
      std::vector<Tensor> params;
      for (int i = 0; i < count; ++i) params.push_back(ones({3 + i % 5}, options()).requires_grad_());
      auto optimizer = make_optimizer(ReferenceOptimizer{kind}, params);
      for (int step = 0; step < 2; ++step) {  // the second step has all state in place
        for (Tensor& p : params) p.set_grad(ones_like(p));
        LaunchCounter counter;
        optimizer->step();
        // CUDA: one launch per 200 parameters, and Adam one more to advance its step counts.
        const std::int64_t launches = (count + 199) / 200 * (kind.starts_with("adam") ? 2 : 1);
        const std::int64_t expected = device().is_cuda() ? launches : 1;
        if (step == 1) {  // the first step also creates state
          EXPECT_EQ(counter.counts().kernels, expected);
        }
        EXPECT_EQ(counter.counts().gemms, 0);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, OptimizerStepTest, ::testing::ValuesIn(test_devices()), device_param_name);

INSTANTIATE_TEST_SUITE_P(Devices, FusedLinearTest, ::testing::ValuesIn(test_devices()), device_param_name);

}  // namespace
}  // namespace nudge::testing

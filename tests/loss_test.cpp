// The fused losses (core/ops_loss.cpp) give the numbers of the generic composition they replace,
// forward and gradient, on every device, and cost one kernel forward and one backward.
#include <cmath>

#include "test_util.h"

namespace nudge::testing {
namespace {

using profiling::LaunchCounter;

Tensor reduce_as(const Tensor& per_element, Reduction reduction) {
  if (reduction == Reduction::Mean) return mean(per_element);
  if (reduction == Reduction::Sum) return sum(per_element);
  return per_element;
}

/// The generic compositions the fused kernels replace.
Tensor composed_loss(LossKind kind, const Tensor& x, const Tensor& t, Reduction reduction) {
  switch (kind) {
    case LossKind::MSE: return reduce_as((x - t) * (x - t), reduction);
    case LossKind::BCEWithLogits: return reduce_as(relu(x) - x * t + log(1 + exp(-abs(x))), reduction);
    case LossKind::CrossEntropy: break;
  }
  return reduce_as(-sum(one_hot(t, x.size(1), x.dtype()) * log_softmax(x, 1), 1), reduction);
}

Tensor fused_loss(LossKind kind, const Tensor& x, const Tensor& t, Reduction reduction) {
  switch (kind) {
    case LossKind::MSE: return mse_loss(x, t, reduction);
    case LossKind::BCEWithLogits: return binary_cross_entropy_with_logits(x, t, reduction);
    case LossKind::CrossEntropy: break;
  }
  return cross_entropy(x, t, reduction);
}

const char* kind_name(LossKind kind) {
  return kind == LossKind::MSE ? "mse" : kind == LossKind::BCEWithLogits ? "bce_with_logits" : "cross_entropy";
}

/// A target for `kind`: values near the input (MSE), probabilities (BCE) or class indices (CE).
Tensor make_target(LossKind kind, const Shape& shape, Generator& gen, TensorOptions on) {
  if (kind == LossKind::MSE) return randn(shape, gen, on);
  if (kind == LossKind::BCEWithLogits) return rand(shape, gen, on);
  std::vector<std::int64_t> labels(static_cast<std::size_t>(shape[0]));
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int64_t>((i * 7 + 3) % shape[1]);
  return from_vector(labels, {shape[0]}).to(on.device());
}

class FusedLossTest : public DeviceTest {};

TEST_P(FusedLossTest, ForwardAndGradientEqualTheComposition) {
  const std::vector<Shape> shapes = {{1, 1}, {3, 5}, {17, 31}, {65537, 3}, {4, 1000}, {1, 65537}};
  for (const DType dtype : {kFloat64, kFloat32}) {
    const double tol = dtype == kFloat64 ? 1e-12 : 1e-5;
    for (const LossKind kind : {LossKind::MSE, LossKind::BCEWithLogits, LossKind::CrossEntropy}) {
      for (const Reduction reduction : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
        for (const Shape& shape : shapes) {
          SCOPED_TRACE(::testing::Message() << dtype_name(dtype) << " " << kind_name(kind) << " reduction "
                                            << static_cast<int>(reduction) << " " << shape_str(shape));
          Generator gen(shape[0] * 131 + shape[1]);
          const auto on = options(dtype);
          const Tensor x = (randn(shape, gen, on) * 3).requires_grad_();
          const Tensor x2 = x.detach().clone().requires_grad_();
          const Tensor t = make_target(kind, shape, gen, on);

          const Tensor fused = fused_loss(kind, x, t, reduction);
          const Tensor reference = composed_loss(kind, x2, t, reduction);
          // A reduced loss sums up to 65537 terms: allow for the summation order.
          const double sum_tol = tol * std::sqrt(static_cast<double>(x.numel()));
          ASSERT_TRUE(all_close(fused, reference, sum_tol, tol));
          // A non-uniform incoming gradient checks that backward scales each term by its own.
          const Tensor g = reduction == Reduction::None ? rand(fused.shape(), gen, on) + 0.5 : full({}, 2.5, on);
          fused.backward(g);
          reference.backward(g);
          EXPECT_TRUE(all_close(x.grad(), x2.grad(), tol, tol));
        }
      }
    }
  }
}

TEST_P(FusedLossTest, GradientsPassGradcheck) {
  Generator gen(5);
  const auto on = options(kFloat64);
  const Tensor x = randn({6, 4}, gen, on).requires_grad_();
  for (const LossKind kind : {LossKind::MSE, LossKind::BCEWithLogits, LossKind::CrossEntropy}) {
    const Tensor t = make_target(kind, {6, 4}, gen, on);
    for (const Reduction reduction : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
      SCOPED_TRACE(::testing::Message() << kind_name(kind) << " reduction " << static_cast<int>(reduction));
      EXPECT_TRUE(autograd::gradcheck([&](auto& v) { return fused_loss(kind, v[0], t, reduction); }, {x}).ok);
    }
  }
}

TEST_P(FusedLossTest, ForwardIsOneKernelAndBackwardOneOrTwo) {
  Generator gen(2);
  for (const LossKind kind : {LossKind::MSE, LossKind::BCEWithLogits, LossKind::CrossEntropy}) {
    SCOPED_TRACE(kind_name(kind));
    const Tensor x = randn({64, 10}, gen, options()).requires_grad_();
    const Tensor t = make_target(kind, {64, 10}, gen, options());
    LaunchCounter forward;
    const Tensor loss = fused_loss(kind, x, t, Reduction::Mean);
    EXPECT_EQ(forward.counts().kernels, 1);
    EXPECT_EQ(forward.counts().gemms, 0);
    const Tensor seed = ones_like(loss);
    LaunchCounter backward;
    loss.backward(seed);
    // Cross-entropy's Mean divides by the rows not ignored (ignore_index), a count the forward
    // kernel finds: backward applies that rescale to the upstream gradient first (a 0-d multiply).
    EXPECT_EQ(backward.counts().kernels, kind == LossKind::CrossEntropy ? 2 : 1);
  }
}

TEST_P(FusedLossTest, NonContiguousInputsAndLargeValues) {
  // A transposed input is read through contiguous(); logits of ±400 neither overflow nor NaN.
  const Tensor x = from_vector<double>({400, -400, 0.5, 3, -2, 400}, {3, 2}).to(device()).t();
  const Tensor t = from_vector<double>({1, 0, 1, 0, 0, 1}, {2, 3}).to(device());
  const Tensor bce = binary_cross_entropy_with_logits(x, t, Reduction::None);
  EXPECT_TRUE(all_close(bce, composed_loss(LossKind::BCEWithLogits, x.contiguous(), t, Reduction::None), 1e-12, 1e-12));
  const Tensor labels = from_vector<std::int64_t>({1, 0}, {2}).to(device());
  const Tensor ce = cross_entropy(x, labels, Reduction::None);
  // Rows [400, 0.5, −2] (class 1) and [−400, 3, 400] (class 0): log-sum-exp minus the picked logit.
  EXPECT_TRUE(values_are(ce, {399.5, 800.0}, 1e-9));
  EXPECT_TRUE(std::isfinite(sum(ce).item<double>()));
}

TEST_P(FusedLossTest, EmptyInputsGiveNanMeanAndZeroSum) {
  const Tensor x = zeros({0, 3}, options()), t = zeros({0, 3}, options());
  EXPECT_TRUE(std::isnan(mse_loss(x, t).item<double>()));
  EXPECT_EQ(mse_loss(x, t, Reduction::Sum).item<double>(), 0.0);
  EXPECT_EQ(mse_loss(x, t, Reduction::None).shape(), (Shape{0, 3}));
  const Tensor labels = zeros({0}, TensorOptions(kInt64).device(device()));
  EXPECT_TRUE(std::isnan(cross_entropy(x, labels).item<double>()));
}

TEST_P(FusedLossTest, TargetThatNeedsAGradientGetsIt) {
  // d/dt (x − t)² = −2(x − t): the target's gradient comes from the generic path.
  const Tensor x = from_vector<double>({1, 2, 3}, {3}).to(device()).requires_grad_();
  const Tensor t = from_vector<double>({0.5, 2.5, 0}, {3}).to(device()).requires_grad_();
  mse_loss(x, t, Reduction::Sum).backward();
  EXPECT_TRUE(values_are(x.grad(), {1, -1, 6}, 1e-12));
  EXPECT_TRUE(values_are(t.grad(), {-1, 1, -6}, 1e-12));
}

TEST_P(FusedLossTest, ClassIndexOutOfRangeIsAClearError) {
  // On the CPU at once; on CUDA the kernel reports it and the next synchronisation (item) throws.
  const Tensor logits = zeros({3, 4}, options());
  const Tensor bad = from_vector<std::int64_t>({0, 7, 1}, {3}).to(device());
  EXPECT_TRUE(throws_error_with([&] { cross_entropy(logits, bad).item<double>(); },
                                {"cross_entropy", "target 1 is class 7", "outside [0, 4)"}));
  const Tensor negative = from_vector<std::int64_t>({0, 1, -1}, {3}).to(device());
  EXPECT_TRUE(throws_error_with([&] { cross_entropy(logits, negative).item<double>(); }, {"target 2 is class -1"}));
  // The report is consumed: good targets work afterwards.
  const Tensor good = from_vector<std::int64_t>({0, 1, 3}, {3}).to(device());
  EXPECT_NEAR(cross_entropy(logits, good).item<double>(), std::log(4.0), 1e-6);
}

TEST(FusedLossErrors, NameTheLossAndOperands) {
  EXPECT_TRUE(throws_error_with([] { mse_loss(zeros({2}), zeros({2}, kFloat64)); },
                                {"mse_loss", "same dtype", "float32", "float64"}));
  EXPECT_TRUE(throws_error_with([] { binary_cross_entropy_with_logits(zeros({2}, kInt64), zeros({2}, kInt64)); },
                                {"binary_cross_entropy_with_logits", "float32 or float64", "int64"}));
  EXPECT_TRUE(throws_error_with(
      [] {
        cross_entropy(zeros({2, 0}), zeros({2}, kInt64));
      },
      {"cross_entropy", "at least one class", "[2, 0]"}));
  EXPECT_TRUE(throws_error_with(
      [] {
        cross_entropy(zeros({2, 3}), zeros({3}, kInt64));
      },
      {"cross_entropy", "[N, C]", "[2, 3]", "[3]"}));
}

INSTANTIATE_TEST_SUITE_P(Devices, FusedLossTest, ::testing::ValuesIn(test_devices()), device_param_name);

}  // namespace
}  // namespace nudge::testing

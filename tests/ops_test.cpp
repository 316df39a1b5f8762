// Each op against values worked out by hand or by the C++ standard library, on every device.
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "test_util.h"

namespace nudge::testing {
namespace {

class OpsTest : public DeviceTest {};

/// Applies `ref` to every element of `x` on the host (float64), the reference for unary ops.
Tensor reference_unary(const Tensor& x, double (*ref)(double)) {
  std::vector<double> v = x.to_vector<double>();
  for (auto& e : v) e = ref(e);
  return tensor(v, x.shape(), kFloat64);
}

TEST_P(OpsTest, UnaryMatchesTheStandardLibrary) {
  for (DType dt : {kFloat32, kFloat64}) {
    SCOPED_TRACE(dtype_name(dt));
    const double tol = dt == kFloat32 ? 1e-6 : 1e-14;
    const Tensor x = randn({257}, options(dt));
    const Tensor pos = abs(x) + 0.1;
    EXPECT_TRUE(all_close(neg(x), reference_unary(x, [](double v) { return -v; }), tol, tol));
    EXPECT_TRUE(all_close(exp(x), reference_unary(x, [](double v) { return std::exp(v); }), tol, tol));
    EXPECT_TRUE(all_close(log(pos), reference_unary(pos, [](double v) { return std::log(v); }), tol, tol));
    EXPECT_TRUE(all_close(sqrt(pos), reference_unary(pos, [](double v) { return std::sqrt(v); }), tol, tol));
    EXPECT_TRUE(all_close(abs(x), reference_unary(x, [](double v) { return std::fabs(v); }), tol, tol));
    EXPECT_TRUE(all_close(tanh(x), reference_unary(x, [](double v) { return std::tanh(v); }), tol, tol));
    EXPECT_TRUE(all_close(relu(x), reference_unary(x, [](double v) { return v > 0 ? v : 0.0; }), tol, tol));
    EXPECT_TRUE(all_close(sigmoid(x), reference_unary(x, [](double v) { return 1 / (1 + std::exp(-v)); }), tol, tol));
    EXPECT_TRUE(all_close(pow(pos, 2.5), reference_unary(pos, [](double v) { return std::pow(v, 2.5); }), tol, tol));
  }
}

TEST_P(OpsTest, SigmoidIsStableAtExtremes) {
  const Tensor x = tensor({-400, -50, 0, 50, 400}, options(kFloat64));
  const auto y = sigmoid(x).to_vector<double>();
  EXPECT_GT(y[0], 0.0);
  EXPECT_NEAR(y[0], std::exp(-400.0), 1e-180);
  EXPECT_DOUBLE_EQ(y[2], 0.5);
  EXPECT_DOUBLE_EQ(y[4], 1.0);
  const auto yf = sigmoid(tensor({-400, 400}, options(kFloat32))).to_vector<float>();
  EXPECT_EQ(yf[0], 0.0f);  // underflows cleanly to 0, never NaN
  EXPECT_EQ(yf[1], 1.0f);
  EXPECT_TRUE(std::isinf(exp(tensor({1000}, options())).item<float>()));
}

TEST_P(OpsTest, BinaryWithBroadcastingAndScalars) {
  const Tensor a = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, options());
  const Tensor row = tensor({10, 20, 30}, options());
  const Tensor col = tensor({1, -1}, {2, 1}, options());
  EXPECT_TRUE(values_are(a + row, {11, 22, 33, 14, 25, 36}));
  EXPECT_TRUE(values_are(a - col, {0, 1, 2, 5, 6, 7}));
  EXPECT_TRUE(values_are(a * col, {1, 2, 3, -4, -5, -6}));
  EXPECT_TRUE(values_are(a / row, {0.1, 0.1, 0.1, 0.4, 0.25, 0.2}));
  EXPECT_TRUE(values_are(col + row, {11, 21, 31, 9, 19, 29}));  // [2,1] + [3] -> [2,3]
  EXPECT_TRUE(values_are(a + 1, {2, 3, 4, 5, 6, 7}));
  EXPECT_TRUE(values_are(10 - a, {9, 8, 7, 6, 5, 4}));
  EXPECT_TRUE(values_are(a - 1, {0, 1, 2, 3, 4, 5}));
  EXPECT_TRUE(values_are(2 * a, {2, 4, 6, 8, 10, 12}));
  EXPECT_TRUE(values_are(a / 2, {0.5, 1, 1.5, 2, 2.5, 3}));
  EXPECT_TRUE(values_are(6 / a, {6, 3, 2, 1.5, 1.2, 1}));
  EXPECT_TRUE(values_are(-a, {-1, -2, -3, -4, -5, -6}));
}

TEST_P(OpsTest, MaximumMinimumAndMasks) {
  const Tensor a = tensor({1, 5, 3}, options());
  const Tensor b = tensor({2, 5, 1}, options());
  EXPECT_TRUE(values_are(maximum(a, b), {2, 5, 3}));
  EXPECT_TRUE(values_are(minimum(a, b), {1, 5, 1}));
  EXPECT_TRUE(values_are(eq(a, b), {0, 1, 0}));
  EXPECT_TRUE(values_are(lt(a, b), {1, 0, 0}));
  EXPECT_TRUE(values_are(gt(a, b), {0, 0, 1}));
  EXPECT_TRUE(values_are(gt(a, 2), {0, 1, 1}));
  EXPECT_TRUE(values_are(lt(a, 2), {1, 0, 0}));
  EXPECT_TRUE(values_are(eq(a, 5), {0, 1, 0}));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor n = tensor({nan, 1}, options(kFloat64));
  EXPECT_TRUE(std::isnan(maximum(n, tensor({0, 0}, options(kFloat64))).to_vector<double>()[0]));
  EXPECT_TRUE(std::isnan(minimum(tensor({0, 0}, options(kFloat64)), n).to_vector<double>()[0]));
}

// |−0.0| is +0.0: 1/|x| is +inf (the differential tester found −inf).
TEST_P(OpsTest, AbsOfNegativeZeroIsPositiveZero) {
  const Tensor x = from_vector<double>({-0.0, 0.0, -2.0, NAN}, {4}, options(kFloat64));
  const std::vector<double> got = (1.0 / abs(x)).cpu().to_vector<double>();
  EXPECT_EQ(got[0], INFINITY);
  EXPECT_EQ(got[1], INFINITY);
  EXPECT_EQ(got[2], 0.5);
  EXPECT_TRUE(std::isnan(got[3]));
}

TEST_P(OpsTest, Int64Arithmetic) {
  const Tensor a = from_vector<std::int64_t>({-3, 0, 7}, {3}, options(kInt64));
  EXPECT_EQ((a * a + 1).to_vector<std::int64_t>(), (std::vector<std::int64_t>{10, 1, 50}));
  EXPECT_EQ(abs(a).to_vector<std::int64_t>(), (std::vector<std::int64_t>{3, 0, 7}));
  EXPECT_EQ(relu(a).to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 0, 7}));
  EXPECT_EQ(sum(a).item<std::int64_t>(), 4);
  EXPECT_EQ(max(a).item<std::int64_t>(), 7);
  EXPECT_EQ(argmax(a).item<std::int64_t>(), 2);
}

TEST_P(OpsTest, SumAndMeanOverAllAndOverDims) {
  const Tensor a = arange(24, options(kInt64)).to(kFloat64).view({2, 3, 4});
  EXPECT_DOUBLE_EQ(sum(a).item<double>(), 276);
  EXPECT_DOUBLE_EQ(mean(a).item<double>(), 11.5);
  EXPECT_TRUE(values_are(sum(a, 0), {12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34}));
  EXPECT_TRUE(values_are(sum(a, 1), {12, 15, 18, 21, 48, 51, 54, 57}));
  EXPECT_TRUE(values_are(sum(a, -1), {6, 22, 38, 54, 70, 86}));
  EXPECT_EQ(sum(a, 1, /*keepdim=*/true).shape(), (Shape{2, 1, 4}));
  EXPECT_EQ(sum(a, 1).shape(), (Shape{2, 4}));
  EXPECT_TRUE(values_are(mean(a, 2), {1.5, 5.5, 9.5, 13.5, 17.5, 21.5}));
  EXPECT_EQ(mean(a, 0, true).shape(), (Shape{1, 3, 4}));
  // Long rows exercise the split (multi-block) path on CUDA.
  const Tensor big = ones({3, 300001}, options());
  EXPECT_TRUE(values_are(sum(big, 1), {300001, 300001, 300001}));
  EXPECT_DOUBLE_EQ(sum(ones({1 << 20}, options(kFloat64))).item<double>(), 1 << 20);
}

TEST_P(OpsTest, MaxAndArgmaxReturnTheFirstLargest) {
  const Tensor a = tensor({3, 9, 9, 1, 4, 4}, {2, 3}, options());
  EXPECT_FLOAT_EQ(max(a).item<float>(), 9);
  EXPECT_EQ(argmax(a).item<std::int64_t>(), 1);
  auto [values, indices] = max(a, 1);
  EXPECT_TRUE(values_are(values, {9, 4}));
  EXPECT_EQ(indices.to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 1}));
  EXPECT_EQ(indices.dtype(), kInt64);
  EXPECT_EQ(argmax(a, 0).to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 0, 0}));
  EXPECT_EQ(argmax(a, 0, true).shape(), (Shape{1, 3}));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(std::isnan(max(tensor({1, nan, 5}, options(kFloat64))).item<double>()));
  // Ties across a long row must resolve to the first index whatever the reduction order.
  Tensor flat = zeros({100000}, options());
  flat.narrow(0, 70000, 1).fill_(5);
  flat.narrow(0, 90000, 1).fill_(5);
  EXPECT_EQ(argmax(flat).item<std::int64_t>(), 70000);
}

TEST_P(OpsTest, MatmulShapesAndValues) {
  const Tensor a = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, options(kFloat64));
  const Tensor b = tensor({7, 8, 9, 10, 11, 12}, {3, 2}, options(kFloat64));
  EXPECT_TRUE(values_are(matmul(a, b), {58, 64, 139, 154}));
  EXPECT_TRUE(values_are(matmul(b.t(), a.t()), {58, 139, 64, 154}));                    // transposed views, no copies
  EXPECT_TRUE(values_are(matmul(a, tensor({1, 0, -1}, options(kFloat64))), {-2, -2}));  // 2-D @ 1-D
  EXPECT_TRUE(values_are(matmul(tensor({1, 1}, options(kFloat64)), a), {5, 7, 9}));     // 1-D @ 2-D
  EXPECT_DOUBLE_EQ(matmul(tensor({1, 2}, options(kFloat64)), tensor({3, 4}, options(kFloat64))).item<double>(), 11);
  // Batched, and a 2-D matrix shared by every batch.
  const Tensor batch =
      a.unsqueeze(0).expand({4, 2, 3}).contiguous() * arange(1, 5, 1, options(kFloat64)).view({4, 1, 1});
  const Tensor out = matmul(batch, b);
  EXPECT_EQ(out.shape(), (Shape{4, 2, 2}));
  EXPECT_TRUE(values_are(out.select(0, 2), {174, 192, 417, 462}));
  const Tensor out3 = matmul(batch, b.unsqueeze(0).expand({4, 3, 2}));
  EXPECT_TRUE(all_close(out3, out));
  EXPECT_TRUE(
      values_are(matmul(zeros({2, 0}, options(kFloat64)), zeros({0, 3}, options(kFloat64))), {0, 0, 0, 0, 0, 0}));
}

// Tiny and larger products (BLAS picks different kernels by size), every transpose combination
// passed as a flag, and a batch, against a sum in long double.
TEST_P(OpsTest, MatmulAgreesWithAPlainSumForEveryTransposeAndSize) {
  Generator gen(11);
  for (const auto& [m, k, n] :
       std::vector<std::array<std::int64_t, 3>>{{4, 2, 16}, {8, 8, 16}, {9, 8, 16}, {33, 17, 5}}) {
    for (const bool trans_a : {false, true}) {
      for (const bool trans_b : {false, true}) {
        const Tensor a_stored =
            trans_a ? randn({3, k, m}, gen, TensorOptions(kFloat64)) : randn({3, m, k}, gen, TensorOptions(kFloat64));
        const Tensor b_stored =
            trans_b ? randn({3, n, k}, gen, TensorOptions(kFloat64)) : randn({3, k, n}, gen, TensorOptions(kFloat64));
        const Tensor a = trans_a ? a_stored.transpose(1, 2) : a_stored;
        const Tensor b = trans_b ? b_stored.transpose(1, 2) : b_stored;
        const auto got = matmul(a.to(device()), b.to(device())).to_vector<double>();
        const auto av = a.contiguous().to_vector<double>(), bv = b.contiguous().to_vector<double>();
        double worst = 0;
        for (std::int64_t t = 0; t < 3; ++t)
          for (std::int64_t r = 0; r < m; ++r)
            for (std::int64_t c = 0; c < n; ++c) {
              long double want = 0;
              for (std::int64_t p = 0; p < k; ++p)
                want += static_cast<long double>(av[(t * m + r) * k + p]) * bv[(t * k + p) * n + c];
              worst = std::max(worst, std::abs(got[(t * m + r) * n + c] - static_cast<double>(want)));
            }
        EXPECT_LT(worst, 1e-12) << m << "x" << k << "x" << n << " trans_a=" << trans_a << " trans_b=" << trans_b;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, OpsTest, ::testing::ValuesIn(test_devices()), device_param_name);

}  // namespace
}  // namespace nudge::testing

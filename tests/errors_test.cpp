// Every user-facing error: a nudge::Error whose message names the op and the operands' shapes,
// dtypes and devices.
#include "kernels/dispatch.h"
#include "test_util.h"

// White-box: the fused kernels are timed / checked through the dispatch tables directly.
using namespace nudge::kernels;  // NOLINT(google-build-using-namespace)

namespace nudge::testing {
namespace {

TEST(Errors, BroadcastShapeMismatch) {
  const Tensor a = zeros({2, 3}), b = zeros({4});
  EXPECT_TRUE(throws_error_with([&] { add(a, b); }, {"add", "[2, 3]", "[4]", "cannot be broadcast"}));
  EXPECT_TRUE(throws_error_with([&] { maximum(a, zeros({3, 2})); }, {"maximum", "[2, 3]", "[3, 2]"}));
  Tensor c = zeros({3});
  EXPECT_TRUE(throws_error_with([&] { c.add_(zeros({2, 3})); }, {"add_", "does not fit in place", "[3]"}));
  EXPECT_TRUE(throws_error_with([&] { c.copy_(zeros({4})); }, {"copy_", "[4]", "[3]"}));
}

TEST(Errors, MatmulShapeMismatch) {
  EXPECT_TRUE(throws_error_with(
      [] {
        matmul(zeros({2, 3}), zeros({4, 5}));
      },
      {"matmul", "[2, 3]", "[4, 5]", "3 columns vs 4 rows"}));
  EXPECT_TRUE(throws_error_with([] { matmul(zeros({2, 2, 3}), zeros({3, 3, 4})); }, {"matmul", "batch", "2 vs 3"}));
  EXPECT_TRUE(throws_error_with(
      [] {
        matmul(zeros({1, 1, 1, 1}), zeros({1, 1}));
      },
      {"matmul", "1-D, 2-D and 3-D", "[1, 1, 1, 1]"}));
}

TEST(Errors, DtypeMismatchAndUnsupportedDtype) {
  const Tensor f = zeros({2}), d = zeros({2}, kFloat64), i = zeros({2}, kInt64);
  EXPECT_TRUE(throws_error_with([&] { add(f, d); }, {"add", "same dtype", "float32", "float64", "[2]", "cpu"}));
  EXPECT_TRUE(throws_error_with([&] { exp(i); }, {"exp", "float32 or float64", "int64"}));
  EXPECT_TRUE(throws_error_with([&] { div(i, i); }, {"div", "int64"}));
  EXPECT_TRUE(throws_error_with([&] { matmul(i.view({1, 2}), i.view({2, 1})); }, {"matmul", "int64"}));
  EXPECT_TRUE(throws_error_with([&] { mean(i); }, {"mean", "int64"}));
  EXPECT_TRUE(throws_error_with([&] { add(i, 0.5); }, {"add", "int64", "non-integer scalar 0.5"}));
  EXPECT_TRUE(throws_error_with([&] { f.data_ptr<double>(); }, {"data_ptr", "float64", "float32"}));
}

TEST(Errors, BadDim) {
  const Tensor t = zeros({2, 3});
  EXPECT_TRUE(throws_error_with([&] { sum(t, 2); }, {"sum", "dim 2", "2 dims", "-2..1"}));
  EXPECT_TRUE(throws_error_with([&] { t.transpose(0, -3); }, {"transpose", "dim -3"}));
  EXPECT_TRUE(throws_error_with([&] { t.unsqueeze(4); }, {"unsqueeze", "dim 4"}));
  EXPECT_TRUE(throws_error_with([&] { t.select(1, 3); }, {"select", "index 3", "size 3"}));
  EXPECT_TRUE(throws_error_with([&] { t.narrow(0, 1, 2); }, {"narrow", "out of bounds", "size 2"}));
  EXPECT_TRUE(throws_error_with([&] { t.permute({0, 0}); }, {"permute", "repeats"}));
  EXPECT_TRUE(throws_error_with([&] { t.permute({0}); }, {"permute", "[2, 3]"}));
  EXPECT_TRUE(throws_error_with([&] { max(zeros({0})); }, {"max", "zero elements", "[0]"}));
}

TEST(Errors, BadView) {
  const Tensor t = zeros({2, 3});
  EXPECT_TRUE(throws_error_with([&] { t.view({4, 2}); }, {"view", "[4, 2]", "[2, 3]"}));
  EXPECT_TRUE(throws_error_with([&] { t.view({-1, -1}); }, {"view", "only one dim may be -1"}));
  EXPECT_TRUE(throws_error_with([&] { t.t().view({6}); }, {"view", "without copying", "reshape()"}));
  EXPECT_TRUE(throws_error_with([&] { t.expand({3, 3}); }, {"expand", "[3, 3]", "dim 0"}));
  EXPECT_TRUE(throws_error_with([&] { t.t().t().view({5}); }, {"view", "[5]"}));
  Tensor expanded = zeros({3}).expand({2, 3});
  EXPECT_TRUE(throws_error_with([&] { expanded.fill_(1); }, {"fill_", "expanded"}));
  EXPECT_TRUE(throws_error_with([] { tensor({1, 2, 3}, {2, 2}); }, {"tensor", "3 values", "[2, 2]"}));
  EXPECT_TRUE(throws_error_with([] { zeros({2}).item<float>(); }, {"item", "one element", "[2]"}));
  EXPECT_TRUE(throws_error_with(
      [] {
        Tensor undefined;
        undefined.sum();
      },
      {"undefined tensor"}));
}

TEST(Errors, BadDeviceString) {
  EXPECT_TRUE(throws_error_with([] { Device("gpu"); }, {"Device", "\"gpu\""}));
  EXPECT_TRUE(throws_error_with([] { Device("cuda:x"); }, {"Device", "\"cuda:x\""}));
}

TEST(Errors, CudaWithoutADevice) {
  if (cuda::is_available()) {
    // With a GPU, the same check fires for a device index that does not exist.
    EXPECT_TRUE(throws_error_with([] { zeros({2}, Device::cuda(63)); }, {"cuda:63", "only"}));
    return;
  }
  const std::string reason = cuda::unavailable_reason();
  EXPECT_FALSE(reason.empty());
  // A CPU-only build and a CUDA build on a machine without a GPU say different things.
  const std::string why = reason.find("built without CUDA") != std::string::npos ? "built without CUDA (NUDGE_CUDA=OFF)"
                                                                                 : "no CUDA device is available";
  EXPECT_TRUE(throws_error_with([] { zeros({2}, kCUDA); }, {"cuda:0", "requested", why}));
  EXPECT_TRUE(throws_error_with([] { zeros({2}).cuda(); }, {"cuda:0", "requested", why}));
  EXPECT_TRUE(throws_error_with([] { cuda::synchronize(); }, {"cuda:0"}));
}

TEST(Errors, EmptyDispatchSlotNamesTheOpAndBackend) {
  dispatch::Table<dispatch::KernelFn<UnaryCall>> table;  // a table no backend filled
  table.set(DeviceType::CPU, dispatch::unary.get(Device::cpu(), "neg"));
  EXPECT_NE(table.get(Device::cpu(), "sigmoid"), nullptr);
  EXPECT_TRUE(throws_error_with([&] { table.get(Device::cuda(0), "sigmoid"); }, {"sigmoid: not implemented for CUDA"}));
}

TEST(Errors, DeviceMismatch) {
  NUDGE_REQUIRE_CUDA();
  const Tensor c = zeros({2}), g = zeros({2}, kCUDA);
  EXPECT_TRUE(throws_error_with([&] { add(c, g); }, {"add", "same device", "cpu", "cuda:0", "[2]"}));
  EXPECT_TRUE(throws_error_with([&] { matmul(c.view({1, 2}), g.view({2, 1})); }, {"matmul", "same device"}));
  Tensor h = zeros({2});
  EXPECT_TRUE(throws_error_with([&] { h.add_(g); }, {"add_", "same device"}));
  h.copy_(g);  // copy_ is the one op that moves data between devices
}

}  // namespace
}  // namespace nudge::testing

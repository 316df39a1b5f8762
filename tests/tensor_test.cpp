// Tensor creation, metadata, conversions and printing.
#include "test_util.h"

namespace nudge::testing {
namespace {

class TensorTest : public DeviceTest {};

TEST_P(TensorTest, FactoriesFillValues) {
  EXPECT_TRUE(values_are(zeros({2, 3}, options()), {0, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(values_are(ones({3}, options(kFloat64)), {1, 1, 1}));
  EXPECT_TRUE(values_are(full({2}, 2.5, options()), {2.5, 2.5}));
  EXPECT_TRUE(values_are(arange(4, options(kInt64)), {0, 1, 2, 3}));
  EXPECT_TRUE(values_are(arange(0.5, 2.0, 0.5, options(kFloat64)), {0.5, 1.0, 1.5}));
  const Tensor t = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, options());
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.strides(), (Strides{3, 1}));
  EXPECT_EQ(t.dtype(), kFloat32);
  EXPECT_EQ(t.device(), device());
  EXPECT_EQ(t.numel(), 6);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST_P(TensorTest, EmptyAndZeroDimTensors) {
  const Tensor e = zeros({0, 3}, options());
  EXPECT_EQ(e.numel(), 0);
  EXPECT_TRUE(e.to_vector<float>().empty());
  EXPECT_EQ(sum(e).item<float>(), 0.0f);
  EXPECT_EQ((e + e).shape(), (Shape{0, 3}));
  const Tensor s = full({}, 7, options(kInt64));
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.item<std::int64_t>(), 7);
}

// numel() and is_contiguous() are computed once per tensor (TensorImpl::set_geometry): every kind
// of view must still get them right.
TEST_P(TensorTest, ElementCountAndContiguityOfEveryKindOfView) {
  const Tensor t = arange(24, options()).view({2, 3, 4});
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.numel(), 24);
  EXPECT_FALSE(t.transpose(0, 2).is_contiguous());
  EXPECT_TRUE(t.transpose(0, 2).transpose(0, 2).is_contiguous());
  EXPECT_FALSE(t.narrow(2, 1, 2).is_contiguous());
  EXPECT_TRUE(t.narrow(0, 1, 1).is_contiguous());  // a contiguous block at an offset
  EXPECT_EQ(t.narrow(2, 1, 2).numel(), 12);
  EXPECT_FALSE(ones({1, 4}, options()).expand({3, 4}).is_contiguous());
  EXPECT_TRUE(ones({4, 1}, options()).unsqueeze(1).is_contiguous());  // size-1 dims do not count
  EXPECT_TRUE(t.narrow(1, 0, 0).is_contiguous());                     // empty tensors are contiguous
  EXPECT_EQ(t.narrow(1, 0, 0).numel(), 0);
  EXPECT_EQ(t.select(0, 1).numel(), 12);
  EXPECT_EQ(full({}, 1, options()).numel(), 1);
  EXPECT_EQ(t.size(-1), 4);
  EXPECT_EQ(t.stride(-3), 12);
  EXPECT_TRUE(throws_as<Error>([&] { (void)t.size(3); }, {"size: dim 3 is out of range", "3 dims"}));
  EXPECT_TRUE(throws_as<Error>([&] { (void)t.stride(-4); }, {"stride: dim -4 is out of range"}));
  EXPECT_TRUE(
      throws_as<Error>([&] { (void)full({}, 1, options()).size(0); }, {"size: dim 0", "0-d tensor has no dims"}));
  EXPECT_TRUE(throws_as<Error>([] { (void)Tensor().numel(); }, {"undefined tensor"}));
}

TEST(TensorFactory, MakeTensorRefusesAGeometryWhoseRanksDiffer) {
  const Tensor t = zeros({2, 3});
  EXPECT_TRUE(throws_as<Error>(
      [&] {
        make_tensor(t.storage(), {2, 3}, {1}, 0, kFloat32);
      },
      {"tensor geometry", "[2, 3]", "[1]", "differ in rank"}));
}

TEST(TensorFactory, EmptyRefusesSizesWhoseBytesOverflow) {
  // 2^62 elements fit an int64; their 2^64 bytes do not.
  EXPECT_TRUE(throws_as<Error>([] { empty({std::int64_t{1} << 62}); },
                               {"empty:", "[4611686018427387904]", "float32", "more bytes than an int64 can count"}));
}

TEST_P(TensorTest, Int64ValuesBeyondDoublePrecisionStayExact) {
  const std::int64_t big = (std::int64_t{1} << 60) + 1;
  const Tensor t = from_vector<std::int64_t>({big, -big}, {2}, options(kInt64));
  EXPECT_EQ(t.to_vector<std::int64_t>(), (std::vector<std::int64_t>{big, -big}));
  EXPECT_EQ((t + std::int64_t{1}).to_vector<std::int64_t>()[0], big + 1);
}

TEST_P(TensorTest, DtypeConversionRoundTrips) {
  const Tensor t = tensor({-1.75, 0.5, 3.25}, options(kFloat64));
  EXPECT_TRUE(values_are(t.to(kFloat32), {-1.75, 0.5, 3.25}));
  // float -> int64 truncates toward zero, as static_cast (and PyTorch) do.
  EXPECT_EQ(t.to(kInt64).to_vector<std::int64_t>(), (std::vector<std::int64_t>{-1, 0, 3}));
  EXPECT_EQ(t.to(kFloat64).storage(), t.storage()) << "converting to the same dtype must not copy";
}

TEST_P(TensorTest, DeviceRoundTripKeepsValues) {
  const Tensor host = randn({5, 7}, kFloat64);
  const Tensor there = host.to(device());
  EXPECT_EQ(there.device(), device());
  EXPECT_TRUE(all_close(there.cpu(), host, 0, 0));
  const Tensor transposed = host.t().to(device());  // non-contiguous source
  EXPECT_TRUE(all_close(transposed.cpu(), host.t(), 0, 0));
}

TEST_P(TensorTest, SeededRandomIsTheSameOnEveryDevice) {
  Generator a(123), b(123);
  const Tensor on_cpu = randn({1000}, a);
  const Tensor here = randn({1000}, b, options());
  EXPECT_TRUE(all_close(here.cpu(), on_cpu, 0, 0));
  Generator c(7), d(7);
  EXPECT_TRUE(all_close(rand({64}, c, options(kFloat64)).cpu(), rand({64}, d, kFloat64), 0, 0));
}

TEST_P(TensorTest, RandomValuesHaveTheRightDistribution) {
  Generator gen(1);
  const Tensor u = rand({100000}, gen, options());
  EXPECT_GE(-max(-u).item<double>(), 0.0);
  EXPECT_LT(max(u).item<double>(), 1.0);
  EXPECT_NEAR(mean(u).item<double>(), 0.5, 0.01);
  const Tensor n = randn({100000}, gen, options(kFloat64));
  EXPECT_NEAR(mean(n).item<double>(), 0.0, 0.02);
  EXPECT_NEAR(mean(n * n).item<double>(), 1.0, 0.02);
}

TEST_P(TensorTest, InPlaceOpsBumpTheVersion) {
  Tensor t = zeros({3}, options());
  const auto v0 = t.storage()->version();
  t.fill_(2);
  t.add_(1);
  t.mul_(tensor({1, 2, 3}, options()));
  t.sub_(0.5);
  EXPECT_EQ(t.storage()->version(), v0 + 4);
  EXPECT_TRUE(values_are(t, {2.5, 5.5, 8.5}));
  t += 1;
  t -= tensor({1, 1, 1}, options());
  t *= 2;
  EXPECT_TRUE(values_are(t, {5, 11, 17}));
}

TEST_P(TensorTest, CopyBroadcastsAndConverts) {
  Tensor dst = zeros({2, 3}, options(kFloat64));
  dst.copy_(tensor({1, 2, 3}, kFloat32));  // from the CPU, float32, broadcast over rows
  EXPECT_TRUE(values_are(dst, {1, 2, 3, 1, 2, 3}));
  Tensor col = dst.select(1, 0);  // a strided view: writes land in dst
  col.fill_(9);
  EXPECT_TRUE(values_are(dst, {9, 2, 3, 9, 2, 3}));
  Tensor sq = arange(4, options(kInt64)).reshape({2, 2}).to(kFloat32);
  sq.copy_(sq.t().clone());  // an overlapping source must be cloned first (InPlaceOverlap tests)
  EXPECT_TRUE(values_are(sq, {0, 2, 1, 3}));
}

TEST_P(TensorTest, LiveBytesFollowStorageLifetime) {
  const std::int64_t before = memory::live_bytes(device());
  {
    const Tensor t = zeros({256}, options(kFloat64));
    EXPECT_EQ(memory::live_bytes(device()), before + 256 * 8);
    const Tensor view = t.view({16, 16});  // views share storage: no new bytes
    EXPECT_EQ(memory::live_bytes(device()), before + 256 * 8);
  }
  EXPECT_EQ(memory::live_bytes(device()), before);
}

INSTANTIATE_TEST_SUITE_P(Devices, TensorTest, ::testing::ValuesIn(test_devices()), device_param_name);

TEST(TensorPrint, LooksLikePyTorchWithShapeDtypeDevice) {
  EXPECT_EQ(tensor({1, 2, 3, 4}, {2, 2}).str(),
            "tensor([[1., 2.],\n        [3., 4.]], shape=[2, 2], dtype=float32, device=cpu)");
  EXPECT_EQ(tensor({0.5, -1.25}, kFloat64).str(), "tensor([ 0.5000, -1.2500], shape=[2], dtype=float64, device=cpu)");
  EXPECT_EQ(arange(3).str(), "tensor([0, 1, 2], shape=[3], dtype=int64, device=cpu)");
  EXPECT_EQ(full({}, 3.5).str(), "tensor(3.5000, shape=[], dtype=float32, device=cpu)");
  EXPECT_EQ(tensor({1e-6, 1.0}).str(), "tensor([1.0000e-06, 1.0000e+00], shape=[2], dtype=float32, device=cpu)");
  EXPECT_EQ(zeros({0}).str(), "tensor([], shape=[0], dtype=float32, device=cpu)");
}

TEST(TensorPrint, ShowsRequiresGradAndGradFnAsPyTorchDoes) {
  const Tensor w = tensor({1, 2}).requires_grad_();
  EXPECT_EQ(w.str(), "tensor([1., 2.], shape=[2], dtype=float32, device=cpu, requires_grad=True)");
  EXPECT_EQ((w * 2).str(), "tensor([2., 4.], shape=[2], dtype=float32, device=cpu, grad_fn=<MulBackward>)");
  EXPECT_EQ(clamp_min(w, 1.5).str(),
            "tensor([1.5000, 2.0000], shape=[2], dtype=float32, device=cpu, grad_fn=<ClampBackward>)");
  EXPECT_EQ(w.detach().str(), "tensor([1., 2.], shape=[2], dtype=float32, device=cpu)");
}

TEST(TensorFactory, BracedShapesIncludingTheEmptyOneOfAZeroDimTensor) {
  const Tensor scalar = tensor({3.0}, {});
  EXPECT_EQ(scalar.dim(), 0);
  EXPECT_EQ(scalar.item<float>(), 3.0f);
  EXPECT_EQ(tensor({1, 2, 3, 4}, {2, 2}, kFloat64).shape(), (Shape{2, 2}));
  EXPECT_TRUE(throws_error_with([] { tensor({1.0, 2.0}, {}); }, {"tensor", "2 values do not fill shape []"}));
}

TEST(TensorPrint, SummarisesLargeTensors) {
  const std::string s = arange(2000).str();
  EXPECT_EQ(s, "tensor([   0,    1,    2, ..., 1997, 1998, 1999], shape=[2000], dtype=int64, device=cpu)");
}

TEST(TensorOptionsTest, ParsesDevices) {
  EXPECT_EQ(Device("cpu"), Device::cpu());
  EXPECT_EQ(Device("cuda"), Device::cuda(0));
  EXPECT_EQ(Device("cuda:3"), Device::cuda(3));
  EXPECT_EQ(Device::cuda(2).str(), "cuda:2");
  const TensorOptions o = TensorOptions().dtype(kFloat64).device(kCUDA);
  EXPECT_EQ(o.dtype(), kFloat64);
  EXPECT_EQ(o.device(), Device::cuda(0));
}

}  // namespace
}  // namespace nudge::testing

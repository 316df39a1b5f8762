// Convolution, pooling, normalisation and nll_loss against PyTorch's numbers (float64, to 1e-10)
// on every device, their errors, and the CNN layers (parameter names, initialisation, state_dict).
// The expected numbers come from tests/spatial/pytorch_expected.py.
#include <cmath>
#include <functional>
#include <map>

#include "test_util.h"

namespace nudge::testing {
namespace {

struct Expected {
  const char* name;
  std::vector<double> values;  // the first (up to) 24 outputs
  std::vector<double> grads;   // a checksum of each input's gradient
};

const std::vector<Expected>& expected_cases() {
  static const std::vector<Expected> cases = {
#include "spatial/pytorch_expected.inc"
  };
  return cases;
}

/// f(i·a + b)·scale for i over the elements, in `shape`: the inputs pytorch_expected.py builds.
Tensor ramp(Shape shape, Device device, double a = 0.37, double b = 0.1, bool cosine = false, double scale = 1.0) {
  const Tensor i = arange(0, static_cast<double>(numel_of(shape)), 1, kFloat64) * a + b;
  return ((cosine ? cos(i) : sin(i)) * scale).reshape(shape).to(device).requires_grad_();
}

Tensor index_wave(const Tensor& t, double step, bool cosine) {
  const Tensor i = arange(0, static_cast<double>(t.numel()), 1, kFloat64) * step;
  return (cosine ? cos(i) : sin(i)).reshape(t.shape()).to(t.device());
}

void PrintTo(const Expected& e, std::ostream* out) { *out << e.name; }

const Tensor& entry(const nn::StateDict& state, const std::string& name) {
  for (const auto& [key, value] : state)
    if (key == name) return value;
  throw std::runtime_error("no " + name + " in the state_dict");
}

bool has_entry(const nn::StateDict& state, const std::string& name) {
  for (const auto& [key, value] : state)
    if (key == name) return true;
  return false;
}

struct Case {
  std::function<std::vector<Tensor>(Device)> inputs;
  std::function<Tensor(const std::vector<Tensor>&)> f;
};

std::map<std::string, Case> cases() {
  using V = const std::vector<Tensor>&;
  using D = Device;
  const auto opts = [](const Tensor& like) { return TensorOptions(kInt64).device(like.device()); };
  return {
      {"conv2d",
       {[](D d) {
          return std::vector{ramp({2, 3, 5, 6}, d), ramp({4, 3, 3, 2}, d, 0.23, 0.1, true, 0.5), ramp({4}, d, 0.7)};
        },
        [](V x) {
          return conv2d(x[0], x[1], x[2], {2, 1}, {1, 0}, {1, 2});
        }}},
      {"conv2d_groups",
       {[](D d) {
          return std::vector{ramp({1, 4, 4, 4}, d), ramp({6, 2, 3, 3}, d, 0.23, 0.1, true, 0.5), ramp({6}, d, 0.7)};
        },
        [](V x) { return conv2d(x[0], x[1], x[2], 1, 1, 1, 2); }}},
      {"conv2d_same",
       {[](D d) {
          return std::vector{ramp({1, 2, 5, 5}, d), ramp({3, 2, 2, 4}, d, 0.29, 0.1, true)};
        },
        [](V x) { return conv2d(x[0], x[1], Tensor(), "same"); }}},
      {"conv1d",
       {[](D d) {
          return std::vector{ramp({2, 2, 9}, d), ramp({3, 2, 3}, d, 0.23, 0.1, true), ramp({3}, d, 0.7)};
        },
        [](V x) { return conv1d(x[0], x[1], x[2], 2, 1, 2); }}},
      {"conv_transpose2d",
       {[](D d) {
          return std::vector{ramp({2, 4, 3, 3}, d), ramp({4, 3, 3, 3}, d, 0.23, 0.1, true, 0.5), ramp({3}, d, 0.7)};
        },
        [](V x) { return conv_transpose2d(x[0], x[1], x[2], 2, 1, 1); }}},
      {"conv_transpose2d_groups",
       {[](D d) {
          return std::vector{ramp({1, 4, 3, 2}, d), ramp({4, 2, 2, 2}, d, 0.23, 0.1, true)};
        },
        [](V x) {
          return conv_transpose2d(x[0], x[1], Tensor(), {2, 1}, 0, 0, 2, {1, 2});
        }}},
      {"max_pool2d",
       {[](D d) {
          return std::vector{ramp({1, 2, 6, 6}, d, 1.7)};
        },
        [](V x) { return max_pool2d(x[0], 3, Size2(2), 1, 1, true); }}},
      {"max_pool2d_dilated",
       {[](D d) {
          return std::vector{ramp({2, 1, 5, 4}, d, 1.3)};
        },
        [](V x) { return max_pool2d(x[0], 2, Size2(1), 0, 2); }}},
      {"avg_pool2d_include_pad",
       {[](D d) {
          return std::vector{ramp({1, 2, 6, 6}, d)};
        },
        [](V x) { return avg_pool2d(x[0], 3, Size2(2), 1, true); }}},
      {"avg_pool2d_exclude_pad",
       {[](D d) {
          return std::vector{ramp({1, 2, 6, 6}, d)};
        },
        [](V x) { return avg_pool2d(x[0], 3, Size2(2), 1, true, false); }}},
      {"adaptive_avg_pool2d",
       {[](D d) {
          return std::vector{ramp({2, 2, 5, 7}, d)};
        },
        [](V x) {
          return adaptive_avg_pool2d(x[0], {3, 4});
        }}},
      {"batch_norm_train",
       {[](D d) {
          return std::vector{ramp({2, 3, 2, 3}, d), ramp({3}, d, 0.5, 0.1, true), ramp({3}, d, 0.9)};
        },
        [](V x) {
          const auto o = TensorOptions(kFloat64).device(x[0].device());
          return batch_norm(x[0], zeros({3}, o), ones({3}, o), x[1], x[2], true);
        }}},
      {"group_norm",
       {[](D d) {
          return std::vector{ramp({2, 6, 2, 2}, d), ramp({6}, d, 0.5, 0.1, true), ramp({6}, d)};
        },
        [](V x) { return group_norm(x[0], 3, x[1], x[2]); }}},
      {"nll_loss",
       {[](D d) {
          return std::vector{ramp({5, 5}, d)};
        },
        [opts](V x) {
          const Tensor weight = ramp({5}, x[0].device(), 0.5, 2.0, true).detach();
          return nll_loss(log_softmax(x[0], 1), from_vector<std::int64_t>({1, 4, -100, 0, 2}, {5}, opts(x[0])), weight);
        }}},
      {"nll_loss_2d",
       {[](D d) {
          return std::vector{ramp({1, 3, 2, 2}, d)};
        },
        [opts](V x) {
          return nll_loss(log_softmax(x[0], 1), from_vector<std::int64_t>({0, 2, 1, 1}, {1, 2, 2}, opts(x[0])), {},
                          -100, Reduction::None);
        }}},
      {"interpolate",
       {[](D d) {
          return std::vector{ramp({1, 2, 2, 3}, d)};
        },
        [](V x) { return interpolate_nearest(x[0], 2); }}},
      {"unfold",
       {[](D d) {
          return std::vector{ramp({1, 2, 4, 5}, d)};
        },
        [](V x) {
          return unfold(x[0], {2, 3}, {2, 1}, 1, {1, 2});
        }}},
      {"fold",
       {[](D d) {
          return std::vector{ramp({1, 12, 12}, d)};
        },
        [](V x) {
          return fold(x[0], {4, 5}, {2, 3}, {2, 1}, 1, {1, 2});
        }}},
      {"pad",
       {[](D d) {
          return std::vector{ramp({1, 2, 3, 3}, d)};
        },
        [](V x) {
          return pad(x[0], {1, 2, -1, 1}, 0.5);
        }}},
  };
}

class SpatialAgreesWithPyTorch : public ::testing::TestWithParam<std::tuple<Device, Expected>> {};

TEST_P(SpatialAgreesWithPyTorch, OutputsAndGradients) {
  const auto& [device, want] = GetParam();
  if (device.is_cuda()) NUDGE_REQUIRE_CUDA();
  const auto all = cases();
  const auto found = all.find(want.name);
  ASSERT_NE(found, all.end()) << "no nudge case for " << want.name;
  const std::vector<Tensor> inputs = found->second.inputs(device);
  const Tensor out = found->second.f(inputs);
  EXPECT_EQ(out.device(), device);
  const Tensor flat = out.detach().reshape({-1}).cpu();
  const std::int64_t n = std::min<std::int64_t>(flat.numel(), static_cast<std::int64_t>(want.values.size()));
  EXPECT_TRUE(values_are(flat.narrow(0, 0, n), want.values, 1e-10));
  sum(out * index_wave(out, 0.11, true)).backward();
  ASSERT_EQ(inputs.size(), want.grads.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const double checksum = sum(inputs[i].grad() * index_wave(inputs[i], 0.13, false)).item<double>();
    EXPECT_NEAR(checksum, want.grads[i], 1e-10 * std::max(1.0, std::abs(want.grads[i]))) << "input " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, SpatialAgreesWithPyTorch,
                         ::testing::Combine(::testing::ValuesIn(test_devices()), ::testing::ValuesIn(expected_cases())),
                         [](const auto& info) {
                           return std::string(std::get<1>(info.param).name) +
                                  (std::get<0>(info.param).is_cpu() ? "_cpu" : "_cuda");
                         });

class Spatial : public DeviceTest {};

TEST_P(Spatial, BatchNormUpdatesRunningStatisticsAsPyTorch) {
  const auto o = options(kFloat64);
  Tensor rm = zeros({3}, o), rv = ones({3}, o);
  (void)batch_norm(ramp({2, 3, 2, 3}, device()).detach(), rm, rv, {}, {}, true, 0.3);
  EXPECT_TRUE(values_are(cat({rm, rv}),
                         {0.22404706229308083, -0.0688037211437035, -0.140856170543756, 0.7232902172650635,
                          0.7998074157100763, 0.7743822497979398},
                         1e-12));
  // Evaluation normalises by them and leaves them as they are.
  const Tensor x = ramp({2, 3, 2, 3}, device()).detach();
  const Tensor y = batch_norm(x, rm, rv, {}, {}, false);
  EXPECT_TRUE(all_close(y, (x - rm.reshape({1, 3, 1, 1})) / sqrt(rv.reshape({1, 3, 1, 1}) + 1e-5), 1e-12, 1e-12));
  EXPECT_TRUE(values_are(rm, {0.22404706229308083, -0.0688037211437035, -0.140856170543756}, 1e-12));
}

TEST_P(Spatial, MaxPoolIndicesAreFlatPositionsInThePlane) {
  const auto [values, indices] =
      max_pool2d_with_indices(ramp({1, 2, 6, 6}, device(), 1.7).detach(), 3, Size2(2), 1, 1, true);
  EXPECT_EQ(indices.dtype(), kInt64);
  EXPECT_EQ(indices.shape(), (Shape{1, 2, 4, 4}));
  EXPECT_EQ(indices.cpu().to_vector<std::int64_t>(),
            (std::vector<std::int64_t>{1, 1, 5, 5, 12, 8,  23, 23, 19, 27, 23, 23, 30, 31, 34, 35,
                                       6, 2, 9, 5, 13, 13, 9,  17, 24, 20, 35, 35, 31, 31, 35, 35}));
  EXPECT_TRUE(all_close(values, max_pool2d(ramp({1, 2, 6, 6}, device(), 1.7).detach(), 3, Size2(2), 1, 1, true), 0, 0));
}

TEST_P(Spatial, MaxPoolPropagatesNaNAndUnbatchedInputsWork) {
  Tensor x = zeros({1, 4, 4}, options(kFloat64));
  x = x + from_vector<double>({0, 0, 0, 0, 0, NAN, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, {1, 4, 4}).to(device());
  const std::vector<double> got = max_pool2d(x, 2).cpu().to_vector<double>();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_TRUE(std::isnan(got[0]));
  EXPECT_EQ(got[3], 1.0);
  EXPECT_EQ(conv2d(zeros({3, 5, 5}, options()), zeros({2, 3, 3, 3}, options())).shape(), (Shape{2, 3, 3}));
  EXPECT_EQ(avg_pool2d(zeros({3, 5, 5}, options()), 2).shape(), (Shape{3, 2, 2}));
}

TEST_P(Spatial, Float32MatchesFloat64) {
  const Tensor x = ramp({2, 3, 7, 7}, device()).detach(), w = ramp({5, 3, 3, 3}, device(), 0.3, 0.2, true).detach();
  const Tensor b = ramp({5}, device()).detach();
  const Tensor y64 = max_pool2d(conv2d(x, w, b, 1, 1, 1, 1, Activation::ReLU), 2);
  const Tensor y32 =
      max_pool2d(conv2d(x.to(kFloat32), w.to(kFloat32), b.to(kFloat32), 1, 1, 1, 1, Activation::ReLU), 2);
  EXPECT_TRUE(all_close(y32.to(kFloat64), y64, 1e-5, 1e-5));
  EXPECT_TRUE(all_close(y64, max_pool2d(relu(conv2d(x, w, b, 1, 1)), 2), 1e-12, 1e-12)) << "the fused activation";
}

TEST_P(Spatial, EmptyBatchesGiveEmptyOutputs) {
  EXPECT_EQ(conv2d(zeros({0, 3, 5, 5}, options()), zeros({2, 3, 3, 3}, options())).shape(), (Shape{0, 2, 3, 3}));
  EXPECT_EQ(max_pool2d(zeros({0, 3, 4, 4}, options()), 2).shape(), (Shape{0, 3, 2, 2}));
  EXPECT_EQ(conv_transpose2d(zeros({0, 3, 2, 2}, options()), zeros({3, 2, 3, 3}, options())).shape(),
            (Shape{0, 2, 4, 4}));
}

TEST_P(Spatial, BadArgumentsNameTheOpTheShapesAndTheRule) {
  const Tensor x = zeros({2, 3, 5, 5}, options());
  EXPECT_TRUE(throws_error_with(
      [&] {
        conv2d(x, zeros({4, 2, 3, 3}, options()));
      },
      {"conv2d", "[2, 3, 5, 5]", "3 channels", "[4, 2, 3, 3]", "expects 2"}));
  EXPECT_TRUE(throws_error_with(
      [&] {
        conv2d(x, zeros({4, 3, 7, 7}, options()));
      },
      {"conv2d", "larger than the padded input", "[2, 3, 5, 5]"}));
  EXPECT_TRUE(throws_error_with(
      [&] {
        conv2d(x, zeros({4, 3, 3, 3}, options(kFloat64)));
      },
      {"conv2d", "same dtype", "float64"}));
  EXPECT_TRUE(throws_error_with(
      [&] {
        conv2d(x, zeros({4, 3, 3, 3}, options()), zeros({3}, options()));
      },
      {"conv2d", "bias", "[3]", "expected bias [4]"}));
  EXPECT_TRUE(throws_error_with(
      [&] {
        conv2d(x, zeros({4, 3, 3, 3}, options()), {}, Size2(0));
      },
      {"conv2d", "stride"}));
  EXPECT_TRUE(throws_error_with(
      [&] {
        conv2d(x, zeros({4, 3, 3, 3}, options()), {}, "full");
      },
      {"conv2d", "\"full\""}));
  EXPECT_TRUE(throws_error_with(
      [&] {
        conv2d(zeros({5, 5}, options()), zeros({4, 3, 3, 3}, options()));
      },
      {"conv2d", "3-D", "4-D", "[5, 5]"}));
  EXPECT_TRUE(
      throws_error_with([&] { max_pool2d(x, 2, std::nullopt, 2); }, {"max_pool2d", "at most half of the kernel size"}));
  EXPECT_TRUE(throws_error_with(
      [&] {
        conv_transpose2d(x, zeros({3, 2, 3, 3}, options()), {}, 1, 0, 1);
      },
      {"conv_transpose2d", "output_padding", "smaller than either stride or dilation"}));
  const Tensor log_probs = zeros({3, 4}, options());
  EXPECT_TRUE(throws_error_with(
      [&] {
        nll_loss(log_probs, from_vector<std::int64_t>({0, 4, 1}, {3}, TensorOptions(kInt64).device(device())));
      },
      {"nll_loss", "target 4 is out of bounds", "4 classes"}));
  EXPECT_TRUE(throws_error_with(
      [&] {
        nll_loss(log_probs, from_vector<std::int64_t>({0, 1}, {2}, TensorOptions(kInt64).device(device())));
      },
      {"nll_loss", "target", "[2]", "[3, 4]", "[3]"}));
  EXPECT_TRUE(throws_error_with([&] { group_norm(x, 2); }, {"group_norm", "3", "divisible by num_groups"}));
  EXPECT_TRUE(throws_error_with(
      [&] {
        batch_norm(zeros({1, 3}, options()), {}, {}, {}, {}, true);
      },
      {"batch_norm", "more than 1 value per channel"}));
  EXPECT_TRUE(throws_error_with(
      [&] {
        fold(zeros({1, 12, 10}, options()), {4, 5}, {2, 3});
      },
      {"fold", "10 window positions", "3·3 = 9"}));
}

INSTANTIATE_TEST_SUITE_P(Devices, Spatial, ::testing::ValuesIn(test_devices()), device_param_name);

// ---- layers ---------------------------------------------------------------------------------------

TEST(SpatialLayers, ConvolutionsHavePyTorchsParameterNamesShapesAndInitialisation) {
  manual_seed(0);
  nn::Conv2d conv(4, 6, {3, 5}, {.groups = 2});
  const nn::StateDict state = conv.state_dict();
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(entry(state, "weight").shape(), (Shape{6, 2, 3, 5}));
  EXPECT_EQ(entry(state, "bias").shape(), (Shape{6}));
  const double bound = 1 / std::sqrt(2.0 * 3 * 5);  // fan_in = in/groups · kH · kW
  EXPECT_LE(max(abs(conv.weight)).item<double>(), bound);
  EXPECT_LE(max(abs(conv.bias)).item<double>(), bound);
  EXPECT_GT(max(abs(conv.weight)).item<double>(), 0.8 * bound);
  nn::ConvTranspose2d up(4, 6, 2, {.stride = 2, .groups = 2});
  EXPECT_EQ(up.weight.shape(), (Shape{4, 3, 2, 2}));
  EXPECT_EQ(up(zeros({1, 4, 3, 3})).shape(), (Shape{1, 6, 6, 6}));
  nn::Conv1d conv1(2, 3, 4, {.bias = false});
  EXPECT_EQ(conv1.state_dict().size(), 1u);
  EXPECT_EQ(conv1(zeros({5, 2, 10})).shape(), (Shape{5, 3, 7}));
}

TEST(SpatialLayers, BatchNorm2dKeepsRunningStatisticsAsBuffers) {
  nn::BatchNorm2d bn(3);
  const nn::StateDict state = bn.state_dict();
  for (const char* name : {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"})
    EXPECT_TRUE(has_entry(state, name)) << name;
  const Tensor x = ramp({2, 3, 2, 3}, Device::cpu()).detach().to(kFloat32);
  (void)bn(x);
  EXPECT_EQ(bn.num_batches_tracked.item<std::int64_t>(), 1);
  EXPECT_TRUE(values_are(bn.running_mean, {0.0746823540976936, -0.0229345737145678, -0.0469520568479187}, 1e-6));
  bn.eval();
  EXPECT_TRUE(all_close(bn(x),
                        (x - bn.running_mean.reshape({1, 3, 1, 1})) / sqrt(bn.running_var.reshape({1, 3, 1, 1}) + 1e-5),
                        1e-6, 1e-6));
  EXPECT_TRUE(throws_error_with([&] { bn(zeros({2, 3})); }, {"BatchNorm2d", "[N, 3, H, W]", "[2, 3]"}));
}

TEST(SpatialLayers, ASmallCnnTrainsAndDropout2dDropsWholeChannels) {
  manual_seed(1);
  nn::Sequential model(nn::Conv2d(1, 4, 3, {.padding = 1, .activation = Activation::ReLU}), nn::MaxPool2d(2),
                       nn::BatchNorm2d(4), nn::Flatten(), nn::Linear(4 * 2 * 2, 3));
  const Tensor x = randn({6, 1, 4, 4});
  const Tensor y = from_vector<std::int64_t>({0, 1, 2, 0, 1, 2}, {6});
  optim::SGD opt(model.parameters(), {.lr = 0.1});
  const nn::NLLLoss loss_fn;
  double first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    opt.zero_grad();
    const Tensor loss = loss_fn(log_softmax(model(x), 1), y);
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  EXPECT_LT(last, 0.5 * first);
  nn::Dropout2d drop(0.5);
  const Tensor out = drop(ones({2, 8, 3, 3}));
  const Tensor per_channel = out.reshape({16, 9});
  for (std::int64_t c = 0; c < 16; ++c) {
    const double lo = min(per_channel[c]).item<double>(), hi = max(per_channel[c]).item<double>();
    EXPECT_EQ(lo, hi) << "channel " << c << " is all dropped or all kept";
    EXPECT_TRUE(hi == 0 || hi == 2) << hi;
  }
  drop.eval();
  EXPECT_TRUE(all_close(drop(ones({2, 8, 3, 3})), ones({2, 8, 3, 3}), 0, 0));
}

}  // namespace
}  // namespace nudge::testing

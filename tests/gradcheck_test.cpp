// gradcheck (central differences, float64) for every differentiable op on every device, with
// broadcasting, non-contiguous and fan-out cases; and CUDA gradients against CPU gradients.
#include <functional>
#include <tuple>

#include "test_util.h"

namespace nudge::testing {
namespace {

using Inputs = std::vector<Tensor>;

struct GradCase {
  std::string name;
  std::vector<Shape> shapes;
  std::function<Tensor(const Inputs&)> f;
  bool positive = false;  // inputs kept in [0.5, 2) (log, sqrt, div, pow)
};

void PrintTo(const GradCase& c, std::ostream* out) { *out << c.name; }

std::vector<GradCase> grad_cases() {
  using I = const Inputs&;
  return {
      {"neg", {{2, 3}}, [](I x) { return -x[0]; }},
      {"exp", {{2, 3}}, [](I x) { return exp(x[0]); }},
      {"log", {{2, 3}}, [](I x) { return log(x[0]); }, true},
      {"sqrt", {{2, 3}}, [](I x) { return sqrt(x[0]); }, true},
      {"abs", {{2, 3}}, [](I x) { return abs(x[0]); }},
      {"sigmoid", {{2, 3}}, [](I x) { return sigmoid(x[0] * 3); }},
      {"tanh", {{2, 3}}, [](I x) { return tanh(x[0]); }},
      {"sin", {{2, 3}}, [](I x) { return sin(x[0] * 3); }},
      {"cos", {{2, 3}}, [](I x) { return cos(x[0] * 3); }},
      {"log1p", {{2, 3}}, [](I x) { return log1p(x[0] * x[0]); }},
      {"expm1", {{2, 3}}, [](I x) { return expm1(x[0]); }},
      {"activation_sigmoid", {{2, 3}}, [](I x) { return activation(x[0] * 3, Activation::Sigmoid); }},
      {"activation_tanh", {{4}}, [](I x) { return activation(x[0], Activation::Tanh); }},
      {"activation_relu", {{2, 3}}, [](I x) { return activation(x[0], Activation::ReLU); }},
      {"relu", {{2, 3}}, [](I x) { return relu(x[0]); }},
      {"min", {{2, 3}}, [](I x) { return min(x[0]) + std::get<0>(min(x[0], 1)).sum(); }},
      {"var_std", {{3, 4}}, [](I x) { return var(x[0]) + std(x[0], 1).sum() + var(x[0], 0, false, true).sum(); }},
      {"norm",
       {{3, 4}},
       [](I x) { return norm(x[0]) + norm(x[0], 1) + norm(x[0], INFINITY) + norm(x[0], 2, 1).sum(); }},
      {"clamp", {{2, 3}}, [](I x) { return clamp(x[0], -0.5, 0.5) + clamp_max(x[0], 0.3); }},
      {"cat_stack",
       {{2, 3}, {1, 3}},
       [](I x) {
         return cat({x[0], x[1]}, 0).sum(0) * stack({x[0][0], x[1][0]}, 1).sum(1);
       }},
      {"split_chunk", {{6}}, [](I x) { return split(x[0], 4)[1] * chunk(x[0], 3)[0]; }},
      {"gather_scatter_add",
       {{3, 4}, {2, 4}},
       [](I x) {
         const Tensor idx =
             from_vector<std::int64_t>({2, 0, 1, 2, 0, 0, 2, 1}, {2, 4}, TensorOptions(kInt64).device(x[0].device()));
         return gather(x[0], 0, idx) * 2 + scatter_add(x[0], 0, idx, x[1]).narrow(0, 0, 2);
       }},
      {"index_select",
       {{3, 4}},
       [](I x) {
         return index_select(x[0], 1,
                             from_vector<std::int64_t>({3, 0, 3}, {3}, TensorOptions(kInt64).device(x[0].device())));
       }},
      {"where_masked_fill",
       {{2, 3}, {3}},
       [](I x) { return where(gt(x[1], 0), x[0], x[1] * 3) + masked_fill(x[0], lt(x[0], 0), 2.0); }},
      {"gelu", {{2, 3}}, [](I x) { return gelu(x[0] * 2); }},
      {"gelu_tanh", {{2, 3}}, [](I x) { return gelu(x[0] * 2, "tanh"); }},
      {"silu", {{2, 3}}, [](I x) { return silu(x[0] * 2); }},
      {"leaky_relu", {{2, 3}}, [](I x) { return leaky_relu(x[0], 0.2) + leaky_relu(x[0] * 2, -0.5); }},
      {"softplus", {{2, 3}}, [](I x) { return softplus(x[0] * 2) + softplus(x[0], 3.0, 1.0); }},
      {"elu", {{2, 3}}, [](I x) { return elu(x[0] * 2, 0.7); }},
      {"pow", {{2, 3}}, [](I x) { return pow(x[0], 2.5) + pow(x[0], 3); }, true},
      {"add_broadcast", {{2, 3}, {3}}, [](I x) { return x[0] + x[1]; }},
      {"sub_broadcast", {{2, 1}, {1, 3}}, [](I x) { return x[0] - x[1]; }},
      {"mul_broadcast", {{2, 3}, {2, 1}}, [](I x) { return x[0] * x[1]; }},
      {"div_broadcast", {{3}, {2, 3}}, [](I x) { return x[0] / x[1]; }, true},
      {"maximum", {{2, 3}, {3}}, [](I x) { return maximum(x[0], x[1]); }},
      {"minimum", {{2, 3}, {2, 1}}, [](I x) { return minimum(x[0], x[1]); }},
      {"scalar_ops", {{4}}, [](I x) { return (x[0] + 2) * 3 - 1 + (5 - x[0]) / 2 + 1 / x[0]; }, true},
      {"sum", {{2, 3}}, [](I x) { return sum(x[0]); }},
      {"sum_dim", {{2, 3, 2}}, [](I x) { return sum(x[0], 1) + sum(x[0], -1, true).sum(); }},
      {"mean", {{2, 3}}, [](I x) { return mean(x[0]) + mean(x[0], 0); }},
      {"max", {{2, 3}}, [](I x) { return max(x[0]); }},
      {"max_dim", {{3, 4}}, [](I x) { return std::get<0>(max(x[0], 1)) + std::get<0>(max(x[0], 0, true)).sum(); }},
      {"view_reshape",
       {{2, 6}},
       [](I x) {
         return x[0].view({3, 4}).reshape({4, 3}) * 2;
       }},
      {"transpose_permute",
       {{2, 3, 2}},
       [](I x) {
         return x[0].transpose(0, 2).permute({1, 2, 0}) * 2;
       }},
      {"slice_narrow_select",
       {{4, 5}},
       [](I x) { return x[0].slice(1, 0, 5, 2).narrow(0, 1, 2) * x[0].select(1, 3).narrow(0, 0, 2).unsqueeze(1); }},
      {"unsqueeze_squeeze", {{3, 1}}, [](I x) { return x[0].squeeze().unsqueeze(0).squeeze(0) * 3; }},
      {"expand",
       {{3, 1}},
       [](I x) {
         return x[0].expand({2, 3, 4}) * 2;
       }},
      {"contiguous_clone", {{3, 4}}, [](I x) { return x[0].t().contiguous().clone() * 2; }},
      {"matmul", {{3, 4}, {4, 2}}, [](I x) { return matmul(x[0], x[1]); }},
      {"matmul_transposed", {{4, 3}, {2, 4}}, [](I x) { return matmul(x[0].t(), x[1].t()); }},
      {"matmul_batched", {{2, 3, 4}, {2, 4, 2}}, [](I x) { return matmul(x[0], x[1]); }},
      {"matmul_shared_matrix", {{2, 3, 4}, {4, 2}}, [](I x) { return matmul(x[0], x[1]); }},
      {"matmul_vectors", {{4}, {4, 3}}, [](I x) { return matmul(x[0], x[1]) + matmul(x[0], x[0]); }},
      {"non_contiguous_inputs",
       {{4, 3}, {3, 4}},
       [](I x) { return exp(x[0].t()) * x[1].slice(1, 0, 4, 2).sum(1, true); }},
      {"fan_out", {{3}}, [](I x) { return x[0] * x[0] * x[0] + exp(x[0]) * x[0] - x[0]; }},
      {"mlp_layer", {{4, 3}, {3, 2}, {2}}, [](I x) { return mean(sigmoid(matmul(x[0], x[1]) + x[2])); }},
      // Convolutions, pooling and normalisation (core/ops_spatial.h).
      {"conv2d_strided_dilated_grouped",
       {{2, 4, 5, 6}, {6, 2, 3, 2}, {6}},
       [](I x) {
         return conv2d(x[0], x[1], x[2], {2, 1}, {1, 2}, {1, 2}, 2);
       }},
      {"conv2d_fused_tanh",
       {{1, 2, 4, 4}, {3, 2, 3, 3}, {3}},
       [](I x) { return conv2d(x[0], x[1], x[2], 1, 1, 1, 1, Activation::Tanh); }},
      {"conv1d", {{2, 3, 7}, {2, 3, 3}, {2}}, [](I x) { return conv1d(x[0], x[1], x[2], 2, 1, 2); }},
      {"conv_transpose2d",
       {{2, 4, 3, 2}, {4, 3, 3, 2}, {6}},
       [](I x) {
         return conv_transpose2d(x[0], x[1], x[2], {2, 1}, 1, {1, 0}, 2, 1);
       }},
      {"max_pool2d", {{2, 2, 5, 5}}, [](I x) { return max_pool2d(x[0], 3, Size2(2), 1, 1, true); }},
      {"avg_pool2d",
       {{2, 2, 5, 5}},
       [](I x) { return avg_pool2d(x[0], 3, Size2(2), 1, true, false) + avg_pool2d(x[0], 3, Size2(2), 1, true); }},
      {"adaptive_avg_pool2d",
       {{2, 2, 5, 7}},
       [](I x) {
         return adaptive_avg_pool2d(x[0], {3, 4});
       }},
      {"batch_norm", {{3, 2, 2, 2}, {2}, {2}}, [](I x) { return batch_norm(x[0], {}, {}, x[1], x[2], true); }},
      {"group_norm", {{2, 4, 3}, {4}, {4}}, [](I x) { return group_norm(x[0], 2, x[1], x[2]); }},
      {"nll_loss",
       {{4, 3}},
       [](I x) {
         const auto on = TensorOptions(kInt64).device(x[0].device());
         const Tensor target = from_vector<std::int64_t>({2, 0, -100, 1}, {4}, on);
         const Tensor weight = tensor({0.5, 2, 1.5}, {3}, TensorOptions(kFloat64).device(x[0].device()));
         return nll_loss(log_softmax(x[0], 1), target) + nll_loss(x[0], target, weight, -100, Reduction::Sum);
       }},
      {"unfold_fold",
       {{1, 2, 4, 5}},
       [](I x) {
         return fold(unfold(x[0], {2, 3}, {2, 1}, 1, {1, 2}) * 1.5, {4, 5}, {2, 3}, {2, 1}, 1, {1, 2});
       }},
      {"pad_interpolate",
       {{1, 2, 2, 3}},
       [](I x) {
         return interpolate_nearest(pad(x[0], {1, -1, 0, 2}, 0.5), 2);
       }},
  };
}

Inputs make_inputs(const GradCase& c, Device device, std::uint64_t seed) {
  Generator gen(seed);
  Inputs inputs;
  for (const Shape& s : c.shapes) {
    Tensor t = c.positive ? rand(s, gen, kFloat64) * 1.5 + 0.5 : randn(s, gen, kFloat64);
    inputs.push_back(t.to(device).requires_grad_());
  }
  return inputs;
}

class GradcheckOp : public ::testing::TestWithParam<std::tuple<Device, GradCase>> {};

TEST_P(GradcheckOp, AnalyticalEqualsNumerical) {
  const auto& [device, c] = GetParam();
  if (device.is_cuda()) NUDGE_REQUIRE_CUDA();
  const Inputs inputs = make_inputs(c, device, 11);
  const auto result = autograd::gradcheck(c.f, inputs);
  EXPECT_TRUE(result.ok) << result.report;
}

INSTANTIATE_TEST_SUITE_P(Ops, GradcheckOp,
                         ::testing::Combine(::testing::ValuesIn(test_devices()), ::testing::ValuesIn(grad_cases())),
                         [](const auto& info) {
                           const Device d = std::get<0>(info.param);
                           return std::get<1>(info.param).name + (d.is_cpu() ? "_cpu" : "_cuda");
                         });

class GradientsCrossDevice : public ::testing::TestWithParam<GradCase> {};

TEST_P(GradientsCrossDevice, CudaEqualsCpu) {
  NUDGE_REQUIRE_CUDA();
  const GradCase& c = GetParam();
  const Inputs on_cpu = make_inputs(c, Device::cpu(), 3), on_gpu = make_inputs(c, Device::cuda(0), 3);
  const Tensor out_cpu = c.f(on_cpu), out_gpu = c.f(on_gpu);
  EXPECT_TRUE(all_close(out_gpu, out_cpu, 1e-12, 1e-12));
  const Tensor seed = randn(out_cpu.shape(), kFloat64);
  out_cpu.backward(seed);
  out_gpu.backward(seed.cuda());
  for (std::size_t i = 0; i < on_cpu.size(); ++i) {
    EXPECT_EQ(on_gpu[i].grad().device(), Device::cuda(0));
    EXPECT_TRUE(all_close(on_gpu[i].grad(), on_cpu[i].grad(), 1e-12, 1e-12)) << "input " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, GradientsCrossDevice, ::testing::ValuesIn(grad_cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace nudge::testing

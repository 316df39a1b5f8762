// Every op on CUDA against the same op on the CPU, from the same inputs: odd sizes that catch
// tail and vectorisation bugs (1, 31, 1023, 65537), broadcasting, and non-contiguous views.
// Skipped with the reason when there is no CUDA device.
#include <functional>

#include "test_util.h"

namespace nudge::testing {
namespace {

using Inputs = std::vector<Tensor>;

struct OpCase {
  std::string name;
  int arity;
  std::function<Inputs(const Inputs&)> run;                                          // returns every output to compare
  std::function<Tensor(const Tensor&)> prepare = [](const Tensor& t) { return t; };  // e.g. keep log's input positive
};

void PrintTo(const OpCase& c, std::ostream* out) { *out << c.name; }

/// Input shapes for one arity: plain sizes, broadcasting, and views (applied by `views`).
struct Layout {
  std::string name;
  std::vector<Shape> shapes;
  std::function<Tensor(const Tensor&, int)> view = [](const Tensor& t, int) { return t; };
};

std::vector<Layout> layouts(int arity) {
  std::vector<Layout> out;
  for (std::int64_t n : {1, 31, 1023, 65537})
    out.push_back({"size " + std::to_string(n), std::vector<Shape>(arity, Shape{n})});
  if (arity == 2) {
    out.push_back({"broadcast [33,31]+[31]", {{33, 31}, {31}}});
    out.push_back({"broadcast [1023,1]+[1,7]", {{1023, 1}, {1, 7}}});
    out.push_back({"broadcast [5,1,9]+[4,1]", {{5, 1, 9}, {4, 1}}});
  }
  // Transposed (and for binary ops, a strided slice as second operand).
  out.push_back(
      {"transposed [40,64]", std::vector<Shape>(arity, Shape{64, 40}), [](const Tensor& t, int) { return t.t(); }});
  out.push_back({"stepped slice [17,1023]", std::vector<Shape>(arity, Shape{17, 2046}),
                 [](const Tensor& t, int) { return t.slice(1, 0, 2046, 2); }});
  return out;
}

Tensor positive(const Tensor& t) { return abs(t) + 0.25; }

/// n int64 indices (7i + 3) mod `modulus` (n when 0): repeats and any order, the same on every device.
Tensor remainder_index(std::int64_t n, Device device, std::int64_t modulus = 0) {
  std::vector<std::int64_t> values(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) values[i] = (7 * i + 3) % (modulus > 0 ? modulus : n);
  return from_vector(values, {n}, TensorOptions(kInt64).device(device));
}

std::vector<OpCase> op_cases() {
  using I = const Inputs&;
  return {
      {"neg", 1, [](I x) { return Inputs{neg(x[0])}; }},
      {"exp", 1, [](I x) { return Inputs{exp(x[0])}; }},
      {"log", 1, [](I x) { return Inputs{log(x[0])}; }, positive},
      {"sqrt", 1, [](I x) { return Inputs{sqrt(x[0])}; }, positive},
      {"abs", 1, [](I x) { return Inputs{abs(x[0])}; }},
      {"sigmoid", 1, [](I x) { return Inputs{sigmoid(x[0] * 30)}; }},
      {"tanh", 1, [](I x) { return Inputs{tanh(x[0])}; }},
      {"sin", 1, [](I x) { return Inputs{sin(x[0])}; }},
      {"cos", 1, [](I x) { return Inputs{cos(x[0])}; }},
      {"relu", 1, [](I x) { return Inputs{relu(x[0])}; }},
      {"indexing", 2,
       [](I x) {
         // Both operands at the broadcast shape, as columns.
         const Tensor a = (x[0] + x[1] * 0).reshape({-1, 1}), b = (x[1] + x[0] * 0).reshape({-1, 1});
         const std::int64_t n = a.size(0);
         const Tensor idx = remainder_index(n, a.device());
         return Inputs{cat({a, b}, 1),
                       stack({a, b}, 0),
                       index_select(a, 0, idx),
                       gather(cat({a, b}, 1), 1, remainder_index(n, a.device(), 2).reshape({-1, 1})),
                       scatter_add(a, 0, idx.reshape({-1, 1}), b),
                       where(gt(a, 0), a, b),
                       masked_fill(a, lt(b, 0), -2.0)};
       }},
      {"statistics", 1,
       [](I x) {
         const Tensor m = x[0].reshape({-1, 1});
         return Inputs{min(x[0]),
                       argmin(x[0]),
                       std::get<0>(min(m, 1)),
                       var(x[0]),
                       std(x[0], std::nullopt, false),
                       norm(x[0]),
                       norm(x[0], 1),
                       norm(x[0], INFINITY),
                       clamp(x[0], -0.5, 0.5)};
       }},
      {"activations", 1,
       [](I x) {
         const Tensor z = x[0] * 4;
         return Inputs{gelu(z),          gelu(z, "tanh"), silu(z), leaky_relu(z, 0.2), leaky_relu(z, -0.5),
                       softplus(z, 2.0), elu(z, 0.7)};
       }},
      {"linear_activations", 3,
       [](I x) {
         // [n, 1] inputs through a 1 -> k layer, k ≤ 7 (the weight and bias taken from x[1], x[2]).
         const std::int64_t k = std::min<std::int64_t>(x[1].numel(), 7);
         const Tensor w = x[1].reshape({-1, 1}).narrow(0, 0, k), b = x[2].reshape({-1}).narrow(0, 0, k);
         Inputs out;
         for (const ActivationSpec act : {ActivationSpec(Activation::GELU), ActivationSpec(Activation::SiLU),
                                          ActivationSpec(Activation::ELU), ActivationSpec(Activation::LeakyReLU, -0.5)})
           out.push_back(linear(x[0].reshape({-1, 1}), w, b, act));
         return out;
       }},
      {"pow", 1,
       [](I x) {
         return Inputs{pow(x[0], 2.5), pow(x[0], 2)};
       },
       positive},
      {"scalar_ops", 1, [](I x) { return Inputs{x[0] + 2, x[0] - 2, 3 - x[0], x[0] * 1.5, x[0] / 4, 2 / x[0]}; },
       positive},
      {"scalar_masks", 1,
       [](I x) {
         return Inputs{gt(x[0], 0.5), lt(x[0], 0.5), eq(x[0], 1.0),   ne(x[0], 1.0),
                       le(x[0], 0.5), ge(x[0], 0.5), sign(x[0] - 0.5)};
       }},
      {"add", 2, [](I x) { return Inputs{x[0] + x[1]}; }},
      {"sub", 2, [](I x) { return Inputs{x[0] - x[1]}; }},
      {"mul", 2, [](I x) { return Inputs{x[0] * x[1]}; }},
      {"div", 2, [](I x) { return Inputs{x[0] / positive(x[1])}; }},
      {"maximum", 2, [](I x) { return Inputs{maximum(x[0], x[1])}; }},
      {"minimum", 2, [](I x) { return Inputs{minimum(x[0], x[1])}; }},
      {"masks", 2,
       [](I x) {
         // Bool results, also through the logical ops, reductions and conversions of masks.
         const Tensor p = lt(x[0], x[1]), q = gt(x[0], 0.5);
         return Inputs{eq(x[0], x[0]),
                       p,
                       gt(x[0], x[1]),
                       ne(x[0], x[1]),
                       le(x[0], x[1]),
                       ge(x[0], x[1]),
                       p & q,
                       p | q,
                       p ^ q,
                       ~p,
                       logical_and(x[0], x[1]),
                       isnan(x[0]),
                       sum(p),
                       mean(p),
                       any(p),
                       all(q),
                       p.to(kFloat64),
                       where(p, q, ~q)};
       }},
      {"inplace", 2,
       [](I x) {
         Tensor y = x[0] + x[1];
         y.add_(x[1]);
         y.mul_(2.0);
         y.sub_(x[0]);
         return Inputs{y};
       }},
      {"copy_convert", 1,
       [](I x) {
         return Inputs{x[0].contiguous(), x[0].to(kFloat64), x[0].to(kFloat32), (x[0] * 100).to(kInt64)};
       }},
      {"fill", 1,
       [](I x) {
         Tensor y = x[0].clone();
         y.fill_(0.75);
         return Inputs{y};
       }},
      {"sum", 1,
       [](I x) {
         return Inputs{sum(x[0]), sum(x[0], 0), sum(x[0], -1, true)};
       }},
      {"mean", 1,
       [](I x) {
         return Inputs{mean(x[0]), mean(x[0], 0)};
       }},
      {"max", 1,
       [](I x) {
         auto [v, i] = max(x[0], -1);
         return Inputs{max(x[0]), argmax(x[0]), v, i, argmax(x[0], 0)};
       }},
  };
}

class CrossDevice : public ::testing::TestWithParam<OpCase> {};

TEST_P(CrossDevice, CudaEqualsCpu) {
  NUDGE_REQUIRE_CUDA();
  const OpCase& op = GetParam();
  Generator gen(2024);
  for (DType dt : {kFloat32, kFloat64}) {
    // float32 sums of 65537 elements round differently in a tree than in a loop.
    const double tol = dt == kFloat64 ? 1e-10 : 2e-5;
    for (const Layout& layout : layouts(op.arity)) {
      SCOPED_TRACE(op.name + ", " + layout.name + ", " + std::string(dtype_name(dt)));
      Inputs on_cpu, on_gpu;
      for (int i = 0; i < op.arity; ++i) {
        const Tensor base = op.prepare(randn(layout.shapes[i], gen, kFloat64)).to(dt);
        on_cpu.push_back(layout.view(base, i));
        on_gpu.push_back(layout.view(base.cuda(), i));
      }
      const Inputs expected = op.run(on_cpu), got = op.run(on_gpu);
      ASSERT_EQ(expected.size(), got.size());
      for (std::size_t k = 0; k < expected.size(); ++k) {
        EXPECT_EQ(got[k].device(), Device::cuda(0));
        EXPECT_EQ(got[k].dtype(), expected[k].dtype());
        EXPECT_TRUE(all_close(got[k], expected[k], tol, tol)) << "output " << k;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, CrossDevice, ::testing::ValuesIn(op_cases()),
                         [](const ::testing::TestParamInfo<OpCase>& info) { return info.param.name; });

TEST(CrossDeviceInt64, CudaEqualsCpu) {
  NUDGE_REQUIRE_CUDA();
  for (std::int64_t n : {1, 31, 1023, 65537}) {
    SCOPED_TRACE(n);
    const Tensor a = (randn({n}, kFloat64) * 1000).to(kInt64), b = (randn({n}, kFloat64) * 1000).to(kInt64);
    const Tensor ga = a.cuda(), gb = b.cuda();
    EXPECT_TRUE(all_close((ga * gb - ga + 3).cpu(), a * b - a + 3, 0, 0));
    EXPECT_TRUE(all_close(maximum(ga, gb).cpu(), maximum(a, b), 0, 0));
    EXPECT_TRUE(all_close(abs(neg(ga)).cpu(), abs(neg(a)), 0, 0));
    EXPECT_EQ(sum(ga).item<std::int64_t>(), sum(a).item<std::int64_t>());
    EXPECT_EQ(argmax(ga).item<std::int64_t>(), argmax(a).item<std::int64_t>());
  }
}

TEST(CrossDeviceMatmul, CudaEqualsCpu) {
  NUDGE_REQUIRE_CUDA();
  Generator gen(5);
  struct Case {
    Shape a, b;
    bool transpose_a, transpose_b;
  };
  const std::vector<Case> cases = {
      {{1, 1}, {1, 1}, false, false},       {{31, 17}, {17, 33}, false, false}, {{64, 128}, {128, 96}, true, false},
      {{257, 65}, {65, 129}, false, true},  {{40, 50}, {50, 60}, true, true},   {{7, 31, 17}, {7, 17, 5}, false, false},
      {{9, 31, 17}, {17, 5}, false, false}, {{31}, {31, 3}, false, false},      {{1023, 3}, {3}, false, false}};
  for (DType dt : {kFloat32, kFloat64}) {
    const double tol = dt == kFloat64 ? 1e-11 : 1e-4;
    for (const Case& c : cases) {
      SCOPED_TRACE(shape_str(c.a) + " @ " + shape_str(c.b) + " " + std::string(dtype_name(dt)));
      // A transposed operand is built as the transpose of a contiguous tensor: a real strided view.
      auto make = [&](Shape s, bool transposed) {
        if (!transposed) return randn(s, gen, kFloat64).to(dt);
        std::swap(s[s.size() - 1], s[s.size() - 2]);
        return randn(s, gen, kFloat64).to(dt).transpose(-1, -2);
      };
      const Tensor a = make(c.a, c.transpose_a), b = make(c.b, c.transpose_b);
      EXPECT_TRUE(all_close(matmul(a.cuda(), b.cuda()).cpu(), matmul(a, b), tol, tol));
    }
  }
}

}  // namespace
}  // namespace nudge::testing

// The CUDA behaviour a reading of the backend found wrong or untested before it ever ran on a GPU
// (issue "The GPU path, ready for its first run"): grid limits and 64-bit indexing, the shapes
// that take each reduction and fused-kernel path, the runtime's stream, event and graph-memory
// rules. Each case runs on the CPU too where that means something, so the CPU build checks the
// reference values the GPU must reproduce. Big-shape cases skip when the card lacks the memory.
#include <thread>

#include "kernels/dispatch.h"
#include "test_util.h"

namespace nudge::testing {
namespace {

constexpr std::int64_t kGiB = std::int64_t{1} << 30;

/// The same computation on the CPU, as the reference.
Tensor on_cpu(const Tensor& t) { return t.to(Device::cpu()); }

/// A [rows, cols] matrix of small integers (exact in float32 and float64), in no sorted order.
Tensor pattern(std::int64_t rows, std::int64_t cols, Device device, DType dtype = kFloat64) {
  std::vector<double> values(static_cast<std::size_t>(rows * cols));
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>((i * 37 + i / 7) % 97) - 48;
  return tensor(values, {rows, cols}, TensorOptions(dtype).device(device));
}

class CudaReadiness : public DeviceTest {};

// ---- K1: row reductions past the grid limit, tensors past 2^31 elements --------------------------

TEST(CudaReadinessBig, RowReductionOverMoreRowsThanAGridHasBlocks) {
  NUDGE_REQUIRE_CUDA();
  // 2^32 + 256 rows: the old launch cast outer·splits to unsigned and wrapped to 256 blocks,
  // leaving all but 256 outputs unwritten. 16 GiB in, 16 GiB out, 16 GiB for the check.
  const std::int64_t rows = (std::int64_t{1} << 32) + 256;
  NUDGE_REQUIRE_CUDA_MEMORY(0, 56 * kGiB);
  Tensor out;
  {
    const Tensor x = full({rows, 1}, 3.0, TensorOptions(kFloat32).device(Device::cuda(0)));
    out = sum(x, 1);
  }
  ASSERT_EQ(out.numel(), rows);
  EXPECT_EQ(max(out).item<float>(), 3.0f);
  EXPECT_EQ(max(-out).item<float>(), -3.0f);  // the smallest output is 3 too: every row was written
  EXPECT_EQ(out.narrow(0, rows - 1, 1).item<float>(), 3.0f);
}

TEST(CudaReadinessBig, ShortRowsPastTwoToTheThirtyOne) {
  NUDGE_REQUIRE_CUDA();
  // [2^31 + 300, 2]: the old grid of one block per row exceeded 2^31 − 1 and failed to launch.
  const std::int64_t rows = (std::int64_t{1} << 31) + 300;
  NUDGE_REQUIRE_CUDA_MEMORY(0, 40 * kGiB);
  Tensor values, indices;
  {
    Tensor x = full({rows, 2}, 1.0, TensorOptions(kFloat32).device(Device::cuda(0)));
    x.select(1, 1).fill_(2.0);
    std::tie(values, indices) = max(x, 1);
  }
  EXPECT_EQ(max(values).item<float>(), 2.0f);
  EXPECT_EQ(max(-values).item<float>(), -2.0f);
  EXPECT_EQ(sum(indices).item<std::int64_t>(), rows);  // every row's index is 1
}

// ---- K4, K5: every reduction path against the CPU ------------------------------------------------

TEST_P(CudaReadiness, ColumnSumsOfTallNarrowMatrices) {
  // sum(x, 0) of [2^22, 4] (one thread per column before), a bias gradient's shape.
  for (const auto& [rows, cols] : std::vector<std::pair<std::int64_t, std::int64_t>>{{1 << 22, 4},
                                                                                     {100000, 33},
                                                                                     {65537, 1},
                                                                                     {3, 70},
                                                                                     {1, 5},
                                                                                     {4096, 2048},
                                                                                     {70001, 2},
                                                                                     {9999, 3},
                                                                                     {513, 7},
                                                                                     {4097, 15},
                                                                                     {100, 16}}) {
    SCOPED_TRACE(std::to_string(rows) + "x" + std::to_string(cols));
    const Tensor x = pattern(rows, cols, device());
    EXPECT_TRUE(all_close(on_cpu(sum(x, 0)), sum(on_cpu(x), 0), 0, 0));
    const Tensor x3 = x.reshape({rows, cols, 1}).expand({rows, cols, 3}).contiguous();
    EXPECT_TRUE(all_close(on_cpu(sum(x3, 0)), sum(on_cpu(x3), 0), 0, 0));
    // Max along the column path: values and the first index of the maximum.
    const auto [v, i] = max(x, 0);
    const auto [cv, ci] = max(on_cpu(x), 0);
    EXPECT_TRUE(all_close(on_cpu(v), cv, 0, 0));
    EXPECT_TRUE(all_close(on_cpu(i), ci, 0, 0));
  }
}

TEST_P(CudaReadiness, ShortAndLongRowReductions) {
  // Row lengths on each side of every lane-group width and of the block/split thresholds.
  for (const std::int64_t n : {1, 2, 3, 5, 8, 10, 16, 17, 31, 32, 33, 255, 256, 257, 4097, 100000}) {
    SCOPED_TRACE(n);
    const std::int64_t rows = n < 300 ? (1 << 21) / n : 7;
    const Tensor x = pattern(rows, n, device());
    EXPECT_TRUE(all_close(on_cpu(sum(x, 1)), sum(on_cpu(x), 1), 0, 0));
    const auto [v, i] = max(x, 1);
    const auto [cv, ci] = max(on_cpu(x), 1);
    EXPECT_TRUE(all_close(on_cpu(v), cv, 0, 0));
    EXPECT_TRUE(all_close(on_cpu(i), ci, 0, 0));
    EXPECT_TRUE(all_close(on_cpu(log_softmax(x, 1)), log_softmax(on_cpu(x), 1), 1e-12, 1e-12));
  }
}

TEST_P(CudaReadiness, ArgmaxFindsNaNAndTheFirstMaximumAcrossSplitBlocks) {
  // A single long row is split over many blocks: the answer must not depend on the split.
  const std::int64_t n = 1 << 22;
  Tensor x = zeros({n}, options(kFloat32));
  x.narrow(0, 3'000'000, 1).fill_(5.0);
  x.narrow(0, 3'500'000, 1).fill_(5.0);  // a tie later: the first index wins
  EXPECT_EQ(argmax(x).item<std::int64_t>(), 3'000'000);
  x.narrow(0, 4'000'000, 1).fill_(std::numeric_limits<double>::infinity());
  EXPECT_EQ(argmax(x).item<std::int64_t>(), 4'000'000);
  x.narrow(0, 2'500'001, 1).fill_(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(argmax(x).item<std::int64_t>(), 2'500'001);  // NaN wins, as in PyTorch
  EXPECT_TRUE(std::isnan(max(x).item<float>()));
}

TEST_P(CudaReadiness, ReductionsOverEmptyDims) {
  const Tensor rows_empty = zeros({3, 0}, options(kFloat64));
  EXPECT_TRUE(values_are(sum(rows_empty, 1), {0, 0, 0}));
  EXPECT_EQ(sum(rows_empty, 0).numel(), 0);
  EXPECT_TRUE(values_are(sum(zeros({0, 3}, options(kFloat64)), 0), {0, 0, 0}));
  EXPECT_TRUE(values_are(sum(zeros({2, 0, 3}, options(kFloat64)), 1), {0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(sum(zeros({0}, options(kFloat64))).item<double>(), 0.0);
}

// ---- K3: fused Linear backward at the shapes that take each path -------------------------------

/// Fused linear forward and all gradients on this device against the CPU.
void expect_linear_matches_cpu(Device device, std::int64_t rows, std::int64_t in, std::int64_t out, bool with_bias,
                               Activation act) {
  SCOPED_TRACE(std::to_string(rows) + "x" + std::to_string(in) + " -> " + std::to_string(out) +
               (with_bias ? " with bias" : " without bias"));
  const auto grads_of = [&](Device d) {
    Tensor x = (pattern(rows, in, d) / 64).requires_grad_();
    Tensor w = (pattern(out, in, d) / 128).requires_grad_();
    Tensor b = with_bias ? (pattern(1, out, d).reshape({out}) / 32).requires_grad_() : Tensor();
    const Tensor y = linear(x, w, b, act);
    (y * pattern(rows, out, d) / 16).sum().backward();
    return std::vector<Tensor>{on_cpu(y), on_cpu(x.grad()), on_cpu(w.grad()), with_bias ? on_cpu(b.grad()) : Tensor()};
  };
  const auto got = grads_of(device), want = grads_of(Device::cpu());
  for (std::size_t k = 0; k < got.size(); ++k) {
    if (want[k].defined()) {
      EXPECT_TRUE(all_close(got[k], want[k], 1e-9, 1e-9)) << "output " << k;
    }
  }
}

TEST_P(CudaReadiness, LinearBackwardWithoutBiasOverManyRows) {
  // Without a bias the backward kernel ran on ONE row chunk: [2^20, 16] on a single block.
  expect_linear_matches_cpu(device(), 1 << 20, 16, 32, false, Activation::Sigmoid);
  expect_linear_matches_cpu(device(), 1 << 20, 16, 32, true, Activation::Sigmoid);
}

TEST_P(CudaReadiness, LinearBackwardWiderThanOneTile) {
  expect_linear_matches_cpu(device(), 4099, 8, 33, true, Activation::Tanh);
  expect_linear_matches_cpu(device(), 300, 8, 100, true, Activation::ReLU);
  expect_linear_matches_cpu(device(), 300, 8, 100, false, Activation::ReLU);
}

TEST_P(CudaReadiness, LinearBackwardPastTheArrivalCounters) {
  // More 32-column tiles (65,538) than arrival counters: the bias sum falls back to one chunk.
  expect_linear_matches_cpu(device(), 3, 2, (65536 + 2) * 32, true, Activation::Sigmoid);
}

// ---- K2: a parameter listed twice ----------------------------------------------------------------

TEST_P(CudaReadiness, OptimizerRefusesAParameterListedTwice) {
  Tensor p = ones({4}, options()).requires_grad_();
  EXPECT_TRUE(throws_error_with(
      [&] {
        optim::SGD({p, p}, {.lr = 0.1});
      },
      {"optimizer: parameters 0 and 1 share memory", "list each parameter once"}));
}

// ---- N4: in-place elementwise ops write the memory they read ----------------------------------------

TEST_P(CudaReadiness, InPlaceElementwiseOpsOverManyVectorsMatchTheCpu) {
  // out == a (and == b) in the dense vectorised kernels: with __restrict__ on both, nvcc may read
  // through the non-coherent cache, undefined for memory the kernel writes.
  const std::int64_t n = (std::int64_t{1} << 20) + 3;
  const Tensor a0 = randn({n}), b0 = randn({n});
  Tensor a = a0.to(device()).detach().clone(), ac = a0.clone();
  const Tensor b = b0.to(device());
  a.mul_(a);
  ac.mul_(ac);
  a.add_(b);
  ac.add_(b0);
  a.sub_(a);  // x − x: exactly 0 wherever the read saw what was written before
  ac.sub_(ac);
  a.add_(b);
  ac.add_(b0);
  EXPECT_TRUE(all_close(a.cpu(), ac, 0, 0));
}

// ---- N1: the one-launch step's precondition, checked where it lives --------------------------------

TEST_P(CudaReadiness, EveryWrittenBufferOfAStepMustBeItsOwn) {
  Tensor p = ones({4}, options()).requires_grad_(), q = ones({4}, options()).requires_grad_();
  optim::SGD sgd({p}, {.lr = 0.1, .momentum = 0.9});
  // A parameter appended through param_groups() after construction, sharing p's memory: the kernel
  // would race on it; the step refuses before launching anything.
  Tensor alias = p.detach().requires_grad_();
  sgd.param_groups()[0].params.push_back(alias);
  (p.sum() * 2).backward();
  alias.sum().backward();
  EXPECT_TRUE(throws_error_with(
      [&] { sgd.step(); }, {"sgd_step_: the parameter of parameter 0 and the parameter of parameter 1 share memory",
                            "each buffer it writes"}));
  // The public ops check too: a step count shared by two parameters (CPU gave step+2, CUDA 1 or 2).
  const Tensor lr = full({}, 0.1, TensorOptions(kFloat64).device(device()));
  const Tensor step = zeros({}, TensorOptions(kFloat64).device(device()));
  const Tensor g = ones({4}, options());
  std::vector<AdamParam> shared_step{{p.detach(), g, zeros({4}, options()), zeros({4}, options()), lr, step},
                                     {q.detach(), g, zeros({4}, options()), zeros({4}, options()), lr, step}};
  EXPECT_TRUE(throws_error_with([&] { adam_step_(shared_step, {}); },
                                {"adam_step_: the step count of parameter 0 and the step count of parameter 1 share "
                                 "memory"}));
  // A momentum buffer that is another parameter's memory.
  std::vector<SgdParam> aliased{{p.detach(), g, q.detach(), lr}, {q.detach(), g, zeros({4}, options()), lr}};
  EXPECT_TRUE(throws_error_with([&] { sgd_step_(aliased, {.momentum = 0.9}); }, {"share memory"}));
  // One gradient read by two parameters is fine (only written buffers must be distinct).
  std::vector<SgdParam> shared_grad{{p.detach(), g, {}, lr}, {q.detach(), g, {}, lr}};
  EXPECT_NO_THROW(sgd_step_(shared_grad, {}));
  EXPECT_TRUE(values_are(q, {0.9, 0.9, 0.9, 0.9}, 1e-6));
}

// ---- N3: the fused bias gradient sums in double on every device -------------------------------------

TEST_P(CudaReadiness, BiasGradientOfManyRowsSumsInDouble) {
  // 2^22 rows of 0.1f: a float accumulator drifts by ~1e-5 relative; double gives the exact sum
  // of the float inputs rounded once.
  const std::int64_t rows = std::int64_t{1} << 22;
  const Tensor x = zeros({rows, 1}, options());
  const Tensor w = ones({1, 1}, options()).requires_grad_();
  const Tensor b = zeros({1}, options()).requires_grad_();
  linear(x, w, b, Activation::Identity).backward(full({rows, 1}, 0.1, options()));
  const double exact = static_cast<double>(rows) * static_cast<double>(0.1f);
  EXPECT_EQ(b.grad().item<float>(), static_cast<float>(exact));
}

// ---- N2: an activation's backward without a bias gradient is a 1-D elementwise pass ---------------

TEST_P(CudaReadiness, ActivationBackwardWithoutBiasMatchesTheCpuAtOddSizes) {
  for (const std::int64_t n : {1, 31, 1023, 65537}) {
    for (const Activation act : {Activation::ReLU, Activation::Sigmoid, Activation::GELU, Activation::SiLU}) {
      const Tensor x0 = randn({n}, TensorOptions(kFloat64));
      Tensor x = x0.to(device()).detach().requires_grad_();  // (on the CPU, to() is x0 itself)
      Tensor xc = x0.clone().requires_grad_();
      const Tensor g0 = randn({n}, TensorOptions(kFloat64));
      activation(x, act).backward(g0.to(device()));
      activation(xc, act).backward(g0);
      EXPECT_TRUE(all_close(x.grad().cpu(), xc.grad(), 1e-12, 1e-12)) << n << " " << activation_name(act);
    }
  }
  // A misaligned view takes the scalar path.
  const Tensor base = randn({65}, TensorOptions(kFloat32).device(device()));
  Tensor x = base.narrow(0, 1, 64).detach().requires_grad_();
  Tensor xc = x.detach().cpu().requires_grad_();
  activation(x, Activation::Tanh).backward(ones({64}, options()));
  activation(xc, Activation::Tanh).backward(ones({64}));
  EXPECT_TRUE(all_close(x.grad().cpu(), xc.grad(), 1e-6, 1e-6));
}

TEST_P(CudaReadiness, SharedLayerTrainsTheSameOnEveryDevice) {
  // Sequential(lin, ReLU, lin) uses one Linear twice: parameters() lists it once, as PyTorch does.
  const auto train = [](Device device) {
    manual_seed(3);
    auto lin = std::make_shared<nn::Linear>(4, 4);
    nn::Sequential model(lin, nn::ReLU(), lin);
    model.to(device);
    EXPECT_EQ(model.parameters().size(), 2u);
    EXPECT_EQ(model.state_dict().size(), 4u);  // every name, as PyTorch's state_dict
    optim::SGD sgd(model.parameters(), {.lr = 0.05, .momentum = 0.9});
    const Tensor x = pattern(8, 4, device, kFloat32) / 50, y = pattern(8, 4, device, kFloat32) / 40;
    for (int i = 0; i < 5; ++i) {
      sgd.zero_grad();
      nn::mse_loss(model(x), y).backward();
      sgd.step();
    }
    return on_cpu(lin->weight);
  };
  EXPECT_TRUE(all_close(train(device()), train(Device::cpu()), 1e-6, 1e-5));
}

// ---- optimizer values past one launch's slot table ----------------------------------------------

TEST_P(CudaReadiness, OptimizerStepBeyondTwoHundredParameters) {
  const auto run = [](Device device, bool adam) {
    std::vector<Tensor> params;
    for (int k = 0; k < 450; ++k)
      params.push_back((pattern(1, 1 + (k * 37) % 5000, device) / (k + 1)).reshape({-1}).requires_grad_());
    std::unique_ptr<optim::Optimizer> opt;
    if (adam) opt = std::make_unique<optim::Adam>(params, optim::AdamOptions{.lr = 0.01});
    else opt = std::make_unique<optim::SGD>(params, optim::SGDOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true});
    for (int step = 0; step < 3; ++step) {
      opt->zero_grad();
      Tensor loss = zeros({}, TensorOptions(kFloat64).device(device));
      for (const Tensor& p : params) loss = loss + (p * p).sum();
      loss.backward();
      opt->step();
    }
    std::vector<Tensor> out;
    for (const Tensor& p : params) out.push_back(on_cpu(p.detach()));
    return out;
  };
  for (const bool adam : {false, true}) {
    const auto got = run(device(), adam), want = run(Device::cpu(), adam);
    for (std::size_t k = 0; k < got.size(); ++k)
      ASSERT_TRUE(all_close(got[k], want[k], 1e-12, 1e-12)) << (adam ? "Adam" : "SGD") << " parameter " << k;
  }
}

// ---- K6: float → int64, one rule -------------------------------------------------------------------

TEST_P(CudaReadiness, FloatToInt64SaturatesAndSendsNaNToZero) {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max(),
                         kMin = std::numeric_limits<std::int64_t>::min();
  const std::vector<std::int64_t> expected{0, kMax, kMin, kMax, kMin, 3, -3, kMin, 0};
  for (const DType dtype : {kFloat32, kFloat64}) {
    const Tensor x =
        tensor({nan, inf, -inf, 1e30, -1e30, 3.7, -3.7, -9223372036854775808.0, -0.5}, {9}, options(dtype));
    EXPECT_EQ(x.to(kInt64).to_vector<std::int64_t>(), expected) << dtype;
  }
}

// ---- K9: in-place ops whose operand overlaps the output ------------------------------------------

TEST_P(CudaReadiness, InPlaceOverlapIsRefusedLikePyTorch) {
  Tensor x = tensor({1, 1, 2, 2}, {2, 2}, options());
  EXPECT_TRUE(
      throws_error_with([&] { x.add_(x.narrow(0, 0, 1)); }, {"add_", "refer to a single memory location", "clone()"}));
  EXPECT_TRUE(throws_error_with([&] { x.add_(x.t()); }, {"add_", "refer to a single memory location"}));
  EXPECT_TRUE(throws_error_with([&] { x.copy_(x.t()); }, {"copy_", "refer to a single memory location"}));
  EXPECT_TRUE(values_are(x, {1, 1, 2, 2}));  // nothing was written
  x.add_(x.narrow(0, 0, 1).clone());
  EXPECT_TRUE(values_are(x, {2, 2, 3, 3}));
  x.mul_(x);  // the same layout is an elementwise read-then-write: allowed
  EXPECT_TRUE(values_are(x, {4, 4, 9, 9}));
}

TEST_P(CudaReadiness, InPlaceOnInterleavedViewsComputesAsIfCloned) {
  // Strided views whose spans overlap but whose elements may not: computed from a copy.
  Tensor x = arange(8, options(kInt64)).to(kFloat32);
  Tensor evens = x.slice(0, 0, 8, 2), odds = x.slice(0, 1, 8, 2);
  evens.add_(odds);
  EXPECT_TRUE(values_are(x, {1, 1, 5, 3, 9, 5, 13, 7}));
  Tensor y = arange(8, options(kInt64)).to(kFloat32);
  y.slice(0, 0, 6, 2).add_(y.slice(0, 2, 8, 2));  // elements shared: read before any write
  EXPECT_TRUE(values_are(y, {2, 1, 6, 3, 10, 5, 6, 7}));
}

// ---- misaligned contiguous views: the scalar fallbacks of the vectorised paths -----------------

TEST_P(CudaReadiness, MisalignedViewsTakeTheScalarPathsCorrectly) {
  const Tensor base = pattern(1, 6 * 1027 + 8, device(), kFloat32).reshape({-1}) / 37;
  const Tensor x = base.narrow(0, 1, 4 * 1027).view({4, 1027});  // contiguous, 4 bytes off alignment
  const Tensor cx = on_cpu(x);
  EXPECT_TRUE(all_close(on_cpu(sigmoid(x)), sigmoid(cx), 1e-6, 1e-6));
  EXPECT_TRUE(all_close(on_cpu(x + x), cx + cx, 0, 0));
  const Tensor w = base.narrow(0, 3, 1027 * 5).view({5, 1027}), b = base.narrow(0, 1, 5);
  EXPECT_TRUE(all_close(on_cpu(linear(x, w, b, Activation::Tanh)), linear(cx, on_cpu(w), on_cpu(b), Activation::Tanh),
                        1e-4, 1e-4));
  const Tensor t = base.narrow(0, 2, 4 * 1027).view({4, 1027});
  EXPECT_TRUE(all_close(on_cpu(mse_loss(x, t)), mse_loss(cx, on_cpu(t)), 1e-6, 1e-5));
  EXPECT_TRUE(all_close(on_cpu(binary_cross_entropy_with_logits(x, sigmoid(t))),
                        binary_cross_entropy_with_logits(cx, sigmoid(on_cpu(t))), 1e-6, 1e-5));
}

// ---- empty tensors through every kind of kernel -------------------------------------------------

TEST_P(CudaReadiness, EmptyTensorsThroughElementwiseFillAndCopy) {
  Tensor e = zeros({0, 3}, options());
  EXPECT_EQ((e + 1).numel(), 0);
  EXPECT_EQ(sigmoid(e).shape(), (Shape{0, 3}));
  e.fill_(2.0);
  e.copy_(zeros({0, 3}));
  EXPECT_EQ(e.to(kInt64).numel(), 0);
  EXPECT_EQ(e.t().contiguous().shape(), (Shape{3, 0}));
  EXPECT_EQ(matmul(zeros({2, 0}, options()), zeros({0, 4}, options())).shape(), (Shape{2, 4}));
  EXPECT_TRUE(values_are(matmul(zeros({2, 0}, options()), zeros({0, 2}, options())), {0, 0, 0, 0}));
}

// ---- NaN and inf in the fused cross-entropy ------------------------------------------------------

TEST_P(CudaReadiness, CrossEntropyWithNonFiniteLogitsMatchesTheCpu) {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor logits = tensor({1, 2, 3, nan, 0, 0, inf, 0, 0, -inf, 0, 1, 400, -400, 0}, {5, 3}, options(kFloat64));
  const Tensor target = tensor({2, 0, 1, 0, 0}, {5}, options(kInt64));
  for (const Reduction r : {Reduction::None, Reduction::Sum}) {
    Tensor l = logits.clone().requires_grad_(), cl = on_cpu(logits).clone().requires_grad_();
    const Tensor got = cross_entropy(l, target, r), want = cross_entropy(cl, on_cpu(target), r);
    EXPECT_TRUE(all_close(on_cpu(got), want, 1e-12, 1e-12));
    got.sum().backward();
    want.sum().backward();
    EXPECT_TRUE(all_close(on_cpu(l.grad()), cl.grad(), 1e-12, 1e-12));
  }
}

// N6: a row gets the smallest group of lanes that covers it (2, 4, 8, 16 or a warp), and rows wider
// than 2,048 classes a block each (a language model's head). Every width gives the CPU's loss and
// gradient, with an ignored row, a NaN logit and each reduction.
TEST_P(CudaReadiness, CrossEntropyAtEveryRowWidthMatchesTheCpu) {
  for (const std::int64_t classes : {1, 2, 3, 5, 9, 16, 17, 33, 2048, 2049, 50257}) {
    Generator gen(17);
    Tensor logits = randn({5, classes}, gen, kFloat64) * 4;
    logits.narrow(0, 3, 1)
        .narrow(1, std::min<std::int64_t>(100, classes - 1), 1)
        .fill_(std::numeric_limits<double>::quiet_NaN());
    const double last = static_cast<double>(classes - 1);
    const Tensor target = tensor({0, last, -100, 0, std::min(last, 1.0)}, {5}, kInt64);
    for (const Reduction r : {Reduction::None, Reduction::Sum, Reduction::Mean}) {
      Tensor l = logits.to(device()).detach().requires_grad_(), cl = logits.clone().requires_grad_();
      const Tensor got = cross_entropy(l, target.to(device()), r), want = cross_entropy(cl, target, r);
      EXPECT_TRUE(all_close(on_cpu(got), want, 1e-12, 1e-12)) << classes;
      got.sum().backward();
      want.sum().backward();
      EXPECT_TRUE(all_close(on_cpu(l.grad()), cl.grad(), 1e-12, 1e-12)) << classes;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, CudaReadiness, ::testing::ValuesIn(test_devices()), device_param_name);

// ---- R1, R2, R6, R7, K8: graph capture and memory ---------------------------------------------------

TEST(CudaReadinessGraph, MemoryFreedInsideACaptureStaysWithTheGraph) {
  NUDGE_REQUIRE_CUDA();
  const auto opts = TensorOptions(kFloat32).device(Device::cuda(0));
  const std::int64_t n = 1 << 20;
  Tensor state = full({n}, 1.0, opts), out;
  cuda::Graph graph;
  graph.capture([&] {
    out = state * 2;
    state = Tensor();  // made before the capture, dropped inside it: the graph still reads it
  });
  // Eager allocations of the same size would reuse the block if it had gone back to the pool.
  std::vector<Tensor> others;
  for (int k = 0; k < 8; ++k) others.push_back(full({n}, 7.0, opts));
  graph.replay();
  EXPECT_EQ(max(out).item<float>(), 2.0f);
  EXPECT_EQ(max(-out).item<float>(), -2.0f);
  for (const Tensor& t : others) EXPECT_EQ(max(-t).item<float>(), -7.0f);
}

TEST(CudaReadinessGraph, RecapturingReplacesTheGraphAndItsMemory) {
  NUDGE_REQUIRE_CUDA();
  const auto opts = TensorOptions(kFloat32).device(Device::cuda(0));
  Tensor x = full({1000}, 1.0, opts), loss;
  cuda::Graph graph;
  for (int round = 1; round <= 3; ++round) {
    // The step drops the previous capture's `loss`, the last block of that capture's pool.
    graph.capture([&] { loss = sum(x * static_cast<double>(round)); });
    graph.replay();
    EXPECT_EQ(loss.item<float>(), 1000.0f * round);
  }
}

TEST(CudaReadinessGraph, PinnedMemoryFreedDuringACapture) {
  NUDGE_REQUIRE_CUDA();
  const auto opts = TensorOptions(kFloat32).device(Device::cuda(0));
  Tensor pinned = ones({64}).pin_memory(), x = ones({64}, opts), out;
  cuda::Graph graph;
  // Freeing pinned memory used to call cudaDeviceSynchronize, which invalidates a capture.
  graph.capture([&] {
    out = x * 3;
    pinned = Tensor();
  });
  graph.replay();
  EXPECT_EQ(sum(out).item<float>(), 192.0f);
}

// H14: a non-blocking copy from pinned memory inside a capture would read that host block at every
// replay, after its tensor may have freed it: refused, with the way forward.
TEST(CudaReadinessGraph, NonBlockingCopiesFromPinnedMemoryAreNotCaptured) {
  NUDGE_REQUIRE_CUDA();
  Tensor pinned = ones({64}).pin_memory(), out;
  cuda::Graph graph;
  EXPECT_TRUE(throws_error_with([&] { graph.capture([&] { out = pinned.to(Device::cuda(0), true) * 2; }); },
                                {"cannot be captured in a CUDA graph", "copy_ the batch into a static device tensor"}));
  const auto opts = TensorOptions(kFloat32).device(Device::cuda(0));
  EXPECT_TRUE(values_are(ones({2}, opts) + 1, {2, 2}));  // the device works on after the refused capture
}

TEST(CudaReadinessGraph, NestedCaptureIsAClearErrorAndTheOuterCaptureSurvives) {
  NUDGE_REQUIRE_CUDA();
  const auto opts = TensorOptions(kFloat32).device(Device::cuda(0));
  Tensor x = ones({16}, opts), out;
  cuda::Graph outer, inner;
  bool inner_failed_clearly = false;
  outer.capture([&] {
    out = x + 1;
    inner_failed_clearly = throws_error_with([&] { inner.capture([] {}); }, {"nested"});
  });
  EXPECT_TRUE(inner_failed_clearly);
  outer.replay();
  EXPECT_EQ(sum(out).item<float>(), 32.0f);
}

TEST(CudaReadinessGraph, CapturesOpsWhoseLaunchersAllocateScratch) {
  NUDGE_REQUIRE_CUDA();
  const Device cuda0 = Device::cuda(0);
  // A long row (split sum: partials), a tall column sum (chunk partials) and a Linear backward
  // with a bias over many rows (chunk partials): all allocate scratch inside the step.
  const Tensor row = pattern(1, 1 << 22, cuda0, kFloat32), tall = pattern(1 << 20, 4, cuda0, kFloat32);
  Tensor x = (pattern(8192, 16, cuda0, kFloat32) / 64), w = (pattern(32, 16, cuda0, kFloat32) / 64).requires_grad_();
  Tensor b = zeros({32}, TensorOptions(kFloat32).device(cuda0)).requires_grad_();
  Tensor row_sum, column_sum;
  const auto step = [&] {
    row_sum = sum(row);
    column_sum = sum(tall, 0);
    w.set_grad(Tensor());
    b.set_grad(Tensor());
    linear(x, w, b, Activation::Sigmoid).sum().backward();
  };
  step();
  const Tensor eager_row = on_cpu(row_sum), eager_column = on_cpu(column_sum);
  const Tensor eager_w = on_cpu(w.grad()), eager_b = on_cpu(b.grad());
  cuda::Graph graph;
  graph.capture(step);
  for (int k = 0; k < 3; ++k) graph.replay();
  EXPECT_TRUE(all_close(on_cpu(row_sum), eager_row, 0, 0));
  EXPECT_TRUE(all_close(on_cpu(column_sum), eager_column, 0, 0));
  EXPECT_TRUE(all_close(on_cpu(w.grad()), eager_w, 0, 0));
  EXPECT_TRUE(all_close(on_cpu(b.grad()), eager_b, 0, 0));
}

// ---- R5: a failed CUDA call does not poison the next one ----------------------------------------

// H6: a CUDA call that fails on a path that must not throw (a free, a destructor) or is answered
// by an exception leaves its error as the thread's last error; the next, unrelated launch check
// then threw it. Each failure is now reported (or thrown) and cleared.
TEST(CudaReadinessRuntime, AnAllocationTooLargeThrowsOutOfMemoryAndTheNextLaunchWorks) {
  NUDGE_REQUIRE_CUDA();
  const auto opts = TensorOptions(kFloat32).device(Device::cuda(0));
  EXPECT_TRUE(throws_as<OutOfMemory>([&] { (void)empty({std::int64_t{1} << 40}, opts); }, {"out of memory"}));
  EXPECT_TRUE(values_are(ones({4}, opts) + 1, {2, 2, 2, 2}));
}

TEST(CudaReadinessRuntime, AFailedFreeIsReportedAndTheNextLaunchWorks) {
  NUDGE_REQUIRE_CUDA();
  const auto opts = TensorOptions(kFloat32).device(Device::cuda(0));
  (void)(ones({4}, opts) + 0);  // the device's context exists
  // Not a pointer the pool handed out: cudaFreeAsync fails (cudaErrorInvalidValue). The free is
  // noexcept: it reports on stderr and clears the error.
  static int not_device_memory = 0;
  ::testing::internal::CaptureStderr();
  kernels::dispatch::runtime(Device::cuda(0)).deallocate(0, &not_device_memory, sizeof not_device_memory);
  const std::string reported = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(reported.find("freeing device memory: cudaFreeAsync"), std::string::npos) << reported;
  EXPECT_TRUE(values_are(ones({4}, opts) + 1, {2, 2, 2, 2}));
  cuda::synchronize(0);
}

// H7: freed blocks stay in nudge's pool for reuse (memory_reserved counts them) until empty_cache
// (or an allocation that would fail, or a collective of a new size) gives them back to the driver.
TEST(CudaReadinessRuntime, FreedBlocksStayReservedUntilEmptyCache) {
  NUDGE_REQUIRE_CUDA();
  constexpr std::size_t kBytes = std::size_t{256} << 20;
  const auto opts = TensorOptions(kFloat32).device(Device::cuda(0));
  (void)(ones({4}, opts) + 0);
  cuda::empty_cache(0);
  const std::size_t before = cuda::memory_reserved(0);
  {
    const Tensor big = empty({static_cast<std::int64_t>(kBytes / 4)}, opts);
    EXPECT_GE(cuda::memory_reserved(0), before + kBytes);
  }
  cuda::synchronize(0);
  EXPECT_GE(cuda::memory_reserved(0), before + kBytes) << "a freed block is kept for reuse";
  cuda::empty_cache(0);
  EXPECT_LE(cuda::memory_reserved(0), before);
}

TEST(CudaApi, NoDeviceHasNothingReserved) {
  EXPECT_EQ(cuda::memory_reserved(-1), 0u);
  EXPECT_EQ(cuda::memory_reserved(cuda::device_count()), 0u);
  cuda::empty_cache(cuda::device_count());  // no such device: nothing to give back, no error
}

// ---- R9: threads share a device's cuBLAS handle --------------------------------------------------

TEST(CudaReadinessRuntime, ThreadsMultiplyOnOneDeviceSafely) {
  NUDGE_REQUIRE_CUDA();
  const Device cuda0 = Device::cuda(0);
  const Tensor a = pattern(64, 48, cuda0) / 16, b = pattern(48, 32, cuda0) / 16;
  const Tensor want = on_cpu(matmul(a, b));
  std::vector<int> bad(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < 50; ++k)
        if (!all_close(on_cpu(matmul(a, b)), want, 0, 0)) ++bad[t];
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(bad, std::vector<int>(4, 0));
}

// ---- R3, R4: two GPUs (run on a machine that has them) -------------------------------------------

#define NUDGE_REQUIRE_TWO_GPUS()                                                                               \
  do {                                                                                                         \
    NUDGE_REQUIRE_CUDA();                                                                                      \
    if (cuda::device_count() < 2) GTEST_SKIP() << "needs two GPUs, this machine has " << cuda::device_count(); \
  } while (0)

TEST(CudaReadinessTwoGpus, PeerCopyCompletesBeforeTheSourceIsReused) {
  NUDGE_REQUIRE_TWO_GPUS();
  const std::int64_t n = 1 << 24;
  Tensor copy;
  {
    const Tensor source = full({n}, 5.0, TensorOptions(kFloat32).device(Device::cuda(1)));
    copy = source.to(Device::cuda(0));
  }  // the source's memory goes back to cuda:1's pool, in cuda:1's stream order
  const Tensor reuse = full({n}, -1.0, TensorOptions(kFloat32).device(Device::cuda(1)));
  EXPECT_EQ(max(copy).item<float>(), 5.0f);
  EXPECT_EQ(max(-copy).item<float>(), -5.0f);
  EXPECT_EQ(max(reuse).item<float>(), -1.0f);
}

// H12: dropping a graph of cuda:0 (and with it its pool's last blocks) while cuda:1 is being
// captured must wait for that capture's end: destroying a graph synchronises and frees, which
// would invalidate the capture in progress.
TEST(CudaReadinessTwoGpus, DroppingAGraphOfOneDeviceWhileCapturingAnother) {
  NUDGE_REQUIRE_TWO_GPUS();
  const auto on0 = TensorOptions(kFloat32).device(Device::cuda(0));
  const auto on1 = TensorOptions(kFloat32).device(Device::cuda(1));
  auto first = std::make_unique<cuda::Graph>();
  Tensor x0 = ones({256}, on0), out0;
  first->capture([&] { out0 = x0 * 2; });
  first->replay();
  Tensor x1 = ones({256}, on1), out1;
  cuda::Graph second;
  second.capture(
      [&] {
        out1 = x1 * 3;
        first.reset();    // the cuda:0 graph goes: its destruction waits for this capture to end
        out0 = Tensor();  // and the last block of its pool with it
      },
      /*device=*/1);
  second.replay();
  EXPECT_EQ(sum(out1).item<float>(), 768.0f);
}

TEST(CudaReadinessTwoGpus, EventsAndPinnedLoadingOnTheSecondDevice) {
  NUDGE_REQUIRE_TWO_GPUS();
  cuda::Event event;
  event.record(1);  // created while cuda:0 is current
  event.synchronize();
  const data::TensorDataset dataset(pattern(64, 3, Device::cpu(), kFloat32), arange(64, kInt64));
  data::DataLoader loader(dataset, {.batch_size = 16, .device = Device::cuda(1)});
  std::int64_t seen = 0;
  for (const data::Batch& batch : loader) {
    EXPECT_EQ(batch.input.device(), Device::cuda(1));
    seen += batch.input.size(0);
  }
  EXPECT_EQ(seen, 64);
}

}  // namespace
}  // namespace nudge::testing

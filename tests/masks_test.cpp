// The bool dtype on every device: comparisons return it, logical ops combine it, conversions and
// reductions treat it as PyTorch 1.13 does (values checked against it), arithmetic refuses it with
// a message that says what to do, and it prints and saves like PyTorch's.
#include <cmath>
#include <limits>

#include "serialization/safetensors.h"
#include "temp_dir.h"
#include "test_util.h"

namespace nudge::testing {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

class MasksTest : public DeviceTest {
 protected:
  Tensor f64(const std::vector<double>& values) {
    return tensor(values, {static_cast<std::int64_t>(values.size())}, options(kFloat64));
  }
  Tensor mask(const std::vector<double>& values) {
    return tensor(values, {static_cast<std::int64_t>(values.size())}, options(kBool));
  }
  static std::vector<bool> bools(const Tensor& t) { return t.to_vector<bool>(); }
};

TEST_P(MasksTest, ComparisonsReturnBoolAndFollowIeeeForNaN) {
  const Tensor a = f64({1, 5, 3, kNaN}), b = f64({2, 5, 1, kNaN});
  for (const Tensor& r : {eq(a, b), ne(a, b), lt(a, b), le(a, b), gt(a, b), ge(a, b)}) {
    EXPECT_EQ(r.dtype(), kBool);
    EXPECT_EQ(r.device(), device());
  }
  EXPECT_EQ(bools(eq(a, b)), (std::vector<bool>{false, true, false, false}));
  EXPECT_EQ(bools(ne(a, b)), (std::vector<bool>{true, false, true, true}));  // NaN != NaN
  EXPECT_EQ(bools(lt(a, b)), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(bools(le(a, b)), (std::vector<bool>{true, true, false, false}));
  EXPECT_EQ(bools(gt(a, b)), (std::vector<bool>{false, false, true, false}));
  EXPECT_EQ(bools(ge(a, b)), (std::vector<bool>{false, true, true, false}));
  // Operators, the scalar on either side, and broadcasting.
  EXPECT_EQ(bools(a > 2), (std::vector<bool>{false, true, true, false}));
  EXPECT_EQ(bools(2 < a), (std::vector<bool>{false, true, true, false}));
  EXPECT_EQ(bools(a <= 3), (std::vector<bool>{true, false, true, false}));
  EXPECT_EQ(bools(3 >= a), (std::vector<bool>{true, false, true, false}));
  EXPECT_EQ(bools(a == 5), (std::vector<bool>{false, true, false, false}));
  EXPECT_EQ(bools(a != a), (std::vector<bool>{false, false, false, true}));
  EXPECT_EQ(bools(isnan(a)), (std::vector<bool>{false, false, false, true}));
  const Tensor grid = a.reshape({4, 1}) < b.reshape({1, 4});
  EXPECT_EQ(grid.shape(), (Shape{4, 4}));
  EXPECT_EQ(sum(grid).item<std::int64_t>(), 3);  // 1 < 2, 1 < 5, 3 < 5; nothing with NaN
  // int64 and bool operands compare too.
  const Tensor i = from_vector<std::int64_t>({-3, 0, 7}, {3}, options(kInt64));
  EXPECT_EQ(bools(i >= 0), (std::vector<bool>{false, true, true}));
  EXPECT_EQ(bools(mask({1, 0}) == mask({1, 1})), (std::vector<bool>{true, false}));
  EXPECT_EQ(bools(mask({1, 0}) == true), (std::vector<bool>{true, false}));
  EXPECT_FALSE((a > 0).requires_grad());
}

TEST_P(MasksTest, ScalarsThatCannotBeComparedExactlyAreRefused) {
  const Tensor i = from_vector<std::int64_t>({1, 2}, {2}, options(kInt64));
  EXPECT_TRUE(throws_error_with([&] { (void)(i < 2.5); }, {"lt", "int64 tensor compares only with an integer", "2.5"}));
  EXPECT_EQ(bools(i < 2.0), (std::vector<bool>{true, false}));  // a whole double is exact
  EXPECT_TRUE(throws_error_with([&] { (void)(mask({1}) == 2); }, {"eq", "bool tensor compares only with 0/1"}));
  EXPECT_TRUE(throws_error_with([&] { (void)eq(f64({1}), mask({1})); }, {"eq", "same dtype", "float64", "bool"}));
}

TEST_P(MasksTest, LogicalOpsTreatNonzeroAsTrue) {
  const Tensor p = mask({1, 1, 0, 0}), q = mask({1, 0, 1, 0});
  EXPECT_EQ(bools(p & q), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(bools(p | q), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(bools(p ^ q), (std::vector<bool>{false, true, true, false}));
  EXPECT_EQ(bools(~p), (std::vector<bool>{false, false, true, true}));
  // Any dtype: NaN is true (PyTorch's logical_not(NaN) is False).
  const Tensor x = f64({kNaN, 0, -2, 0}), y = f64({1, 1, 0, 0});
  EXPECT_EQ(bools(logical_and(x, y)), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(bools(logical_or(x, y)), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(bools(logical_xor(x, y)), (std::vector<bool>{false, true, true, false}));
  EXPECT_EQ(bools(logical_not(x)), (std::vector<bool>{false, true, false, true}));
  EXPECT_TRUE(
      throws_error_with([&] { (void)(x & y); }, {"operator&", "expects bool tensors", "float64", "logical_and"}));
  EXPECT_TRUE(throws_error_with([&] { (void)~x; }, {"operator~", "logical_not"}));
}

TEST_P(MasksTest, ArithmeticOnAMaskIsAClearError) {
  const Tensor m = mask({1, 0, 1});
  const Tensor x = f64({1, 2, 3});
  for (const auto& [fn, op] : std::vector<std::pair<std::function<void()>, std::string>>{
           {[&] { (void)(m + m); }, "add"},
           {[&] { (void)(m * 2); }, "mul"},
           {[&] { (void)(1 - m); }, "sub"},
           {[&] { (void)neg(m); }, "neg"},
           {[&] { (void)abs(m); }, "abs"},
           {[&] { (void)maximum(m, m); }, "maximum"},
           {[&] { (void)clamp(m, 0, 1); }, "clamp"},
           {[&] {
              Tensor c = m.clone();
              c.add_(m);
            },
            "add_"},
           {[&] {
              Tensor c = m.clone();
              c.mul_(1);
            },
            "mul_"},
       }) {
    EXPECT_TRUE(throws_error_with(
        fn, {op + ": arithmetic on a bool tensor", "shape [3], bool", ".to(kFloat32)", "logical_and"}))
        << op;
  }
  // Float-only ops name the float dtypes; mixing a mask and numbers asks for a conversion.
  EXPECT_TRUE(throws_error_with([&] { (void)exp(m); }, {"exp", "float32 or float64", "bool"}));
  EXPECT_TRUE(throws_error_with([&] { (void)(m * x); }, {"mul", "same dtype", "bool", "float64"}));
  EXPECT_TRUE(throws_error_with(
      [&] {
        Tensor c = m.clone();
        c.requires_grad_();
      },
      {"bool"}));
  EXPECT_TRUE(throws_error_with([&] { (void)arange(3, options(kBool)); }, {"arange", "bool"}));
  // What works instead.
  EXPECT_TRUE(values_are(m.to(kFloat64) * x, {1, 0, 3}, 0));
  EXPECT_TRUE(values_are(where(m, x, 0), {1, 0, 3}, 0));
}

TEST_P(MasksTest, ConversionsFollowPyTorch) {
  // To bool: nonzero is true, NaN and -0.0 included as PyTorch has them (NaN true, -0.0 false).
  EXPECT_EQ(bools(f64({0, -0.0, 0.5, -2, kNaN, kInf}).to(kBool)),
            (std::vector<bool>{false, false, true, true, true, true}));
  EXPECT_EQ(bools(from_vector<std::int64_t>({0, -7, 1}, {3}, options(kInt64)).to(kBool)),
            (std::vector<bool>{false, true, true}));
  EXPECT_EQ(mask({1, 0}).to(kFloat32).to_vector<float>(), (std::vector<float>{1, 0}));
  EXPECT_EQ(mask({1, 0}).to(kInt64).to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 0}));
  // Factories and fills: any nonzero value is true.
  EXPECT_EQ(bools(full({2}, 0.25, options(kBool))), (std::vector<bool>{true, true}));
  EXPECT_EQ(bools(zeros({2}, options(kBool))), (std::vector<bool>{false, false}));
  Tensor z = zeros({3}, options(kBool));
  z.fill_(kNaN);
  EXPECT_EQ(bools(z), (std::vector<bool>{true, true, true}));
  EXPECT_TRUE(mask({1}).item<bool>());
  // copy_ converts across dtypes (and devices).
  Tensor target = zeros({3}, options(kFloat64));
  target.copy_(mask({0, 1, 1}));
  EXPECT_TRUE(values_are(target, {0, 1, 1}, 0));
}

TEST_P(MasksTest, ReductionsCountAndAverage) {
  const Tensor m = tensor({1, 0, 1, 1, 0, 0}, {2, 3}, options(kBool));
  const Tensor total = sum(m);  // PyTorch: a count, int64
  EXPECT_EQ(total.dtype(), kInt64);
  EXPECT_EQ(total.item<std::int64_t>(), 3);
  EXPECT_EQ(sum(m, 1).to_vector<std::int64_t>(), (std::vector<std::int64_t>{2, 1}));
  const Tensor fraction = mean(m);  // nudge: the fraction true (PyTorch asks for a cast)
  EXPECT_EQ(fraction.dtype(), kFloat32);
  EXPECT_FLOAT_EQ(fraction.item<float>(), 0.5F);
  EXPECT_TRUE(values_are(mean(m, 0), {1, 0, 0.5}, 0));
  EXPECT_TRUE(any(m).item<bool>());
  EXPECT_FALSE(all(m).item<bool>());
  EXPECT_EQ(bools(any(m, 1)), (std::vector<bool>{true, true}));
  EXPECT_EQ(bools(all(m, 0)), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(bools(all(m, 0, true)), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(all(m, 0, true).shape(), (Shape{1, 3}));
  // Empty: any is false, all is true (PyTorch).
  const Tensor empty_mask = zeros({0}, options(kBool));
  EXPECT_FALSE(any(empty_mask).item<bool>());
  EXPECT_TRUE(all(empty_mask).item<bool>());
  // any/all of numbers: nonzero is true, NaN included.
  EXPECT_TRUE(all(f64({kNaN, 1})).item<bool>());
  EXPECT_FALSE(any(f64({0, -0.0})).item<bool>());
  // max/min of a mask stay bool; argmax is the first true.
  EXPECT_EQ(max(m).dtype(), kBool);
  EXPECT_TRUE(max(m).item<bool>());
  EXPECT_FALSE(min(m).item<bool>());
  EXPECT_EQ(argmax(m, 1).to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 0}));
  // Accuracy, the way a training loop computes it.
  const Tensor predictions = from_vector<std::int64_t>({0, 2, 1, 1}, {4}, options(kInt64));
  const Tensor labels = from_vector<std::int64_t>({0, 2, 0, 1}, {4}, options(kInt64));
  EXPECT_FLOAT_EQ((predictions == labels).mean().item<float>(), 0.75F);
}

TEST_P(MasksTest, SelectingJoiningAndIndexingMasks) {
  const Tensor m = mask({1, 0, 1});
  const Tensor x = f64({1, -2, 3}).requires_grad_();
  const Tensor y = where(m, x, x * 10);
  EXPECT_TRUE(values_are(y, {1, -20, 3}, 0));
  y.sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {1, 10, 1}, 0));
  EXPECT_TRUE(values_are(masked_fill(x.detach(), m, -1.0), {-1, -2, -1}, 0));
  // Masks as values: where, masked_fill, cat, stack, index_select, gather, views and copies.
  EXPECT_EQ(bools(where(m, ~m, m)), (std::vector<bool>{false, false, false}));
  EXPECT_EQ(bools(masked_fill(m, ~m, 1)), (std::vector<bool>{true, true, true}));
  EXPECT_EQ(bools(cat({m, ~m})), (std::vector<bool>{true, false, true, false, true, false}));
  EXPECT_EQ(stack({m, m}).shape(), (Shape{2, 3}));
  const Tensor index = from_vector<std::int64_t>({2, 1, 1}, {3}, options(kInt64));
  EXPECT_EQ(bools(index_select(m, 0, index)), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(bools(gather(m, 0, index)), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(bools(stack({m, ~m}).t().contiguous()), (std::vector<bool>{true, false, false, true, true, false}));
  EXPECT_TRUE(throws_error_with([&] { (void)scatter_add(m, 0, index, m); }, {"scatter_add", "bool"}));
}

// The README's mask snippet, verbatim (between the setup and the checks).
TEST_P(MasksTest, ReadmeSnippetRuns) {
  const Tensor logits = tensor({2, 1, 0, 3, 1, 2}, {3, 2}, options(kFloat32));
  const Tensor labels = from_vector<std::int64_t>({0, 1, 0}, {3}, options(kInt64));
  const Tensor x = tensor({-2, -0.5, 0.5, 2, kNaN}, {5}, options(kFloat32));

  const Tensor correct = argmax(logits, 1) == labels;   // bool [N]
  const float accuracy = correct.mean().item<float>();  // the fraction true (float32)
  const std::int64_t hits = correct.sum().item<std::int64_t>();
  const Tensor leaky = where(x > 0, x, 0.1 * x);       // select; the gradient follows the choice
  const Tensor keep = (x > -1) & (x < 1) & ~isnan(x);  // mask algebra: & | ^ ~
  const Tensor weights = keep.to(kFloat32);            // 1/0 numbers, explicitly (keep * x is an error)

  EXPECT_FLOAT_EQ(accuracy, 2.0F / 3);  // predictions 0, 1, 1 against labels 0, 1, 0
  EXPECT_EQ(hits, 2);
  EXPECT_TRUE(values_are(leaky.narrow(0, 0, 4), {-0.2, -0.05, 0.5, 2}, 1e-7));
  EXPECT_TRUE(values_are(weights, {0, 1, 1, 0, 0}, 0));
  EXPECT_TRUE(throws_error_with([&] { (void)(keep * x); }, {"mul", "same dtype"}));
}

TEST_P(MasksTest, PrintsAsPyTorch) {
  EXPECT_EQ(mask({1, 0}).str(), "tensor([ True, False], shape=[2], dtype=bool, device=" + device().str() + ")");
  EXPECT_EQ(mask({1}).reshape({}).str(), "tensor(True, shape=[], dtype=bool, device=" + device().str() + ")");
}

TEST_P(MasksTest, SafetensorsStoresBoolAndRefusesOtherBytes) {
  TempDir dir;
  const std::string path = dir.path() + "/mask.safetensors";
  serialization::write_safetensors(path, {{"m", tensor({1, 0, 1, 1}, {2, 2}, options(kBool))}});
  const serialization::SafetensorsFile file = serialization::read_safetensors(path, device());
  ASSERT_EQ(file.tensors.size(), 1U);
  EXPECT_EQ(file.tensors[0].second.dtype(), kBool);
  EXPECT_EQ(bools(file.tensors[0].second), (std::vector<bool>{true, false, true, true}));
  // A BOOL byte other than 0 or 1 would be undefined behaviour in a C++ bool: refused.
  std::string bytes = file_contents(path);
  bytes.back() = '\x02';
  const std::string bad = dir.write("bad.safetensors", bytes);
  EXPECT_TRUE(throws_as<FormatError>([&] { serialization::read_safetensors(bad); },
                                     {"tensor \"m\" is BOOL but holds the byte 2"}));
}

INSTANTIATE_TEST_SUITE_P(Devices, MasksTest, ::testing::ValuesIn(test_devices()), device_param_name);

}  // namespace
}  // namespace nudge::testing

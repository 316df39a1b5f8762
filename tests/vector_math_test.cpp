// The CPU's exp, log, log1p, expm1, tanh and sigmoid against long-double libm: within 1 ulp of the
// correctly rounded value in float64, 2 in float32 (SLEEF's AVX2 functions where the CPU has them,
// libm's scalar ones elsewhere), with IEEE special values exactly as libm gives them, every tail
// length of the vector loop, and strided inputs (the scalar loop) equal to contiguous ones.
#include <bit>
#include <cmath>
#include <limits>

#include "test_util.h"

namespace nudge::testing {
namespace {

struct MathCase {
  const char* name;
  Tensor (*op)(const Tensor&);
  long double (*reference)(long double);
  double low, high;  // where the random inputs are drawn
};

long double sigmoid_reference(long double x) { return 1.0L / (1.0L + std::exp(-x)); }

const MathCase kCases[] = {
    {"exp", nudge::exp, [](long double x) { return std::exp(x); }, -100, 100},
    {"log", nudge::log, [](long double x) { return std::log(x); }, 1e-30, 1e30},
    {"log1p", nudge::log1p, [](long double x) { return std::log1p(x); }, -0.999, 1e6},
    {"expm1", nudge::expm1, [](long double x) { return std::expm1(x); }, -40, 80},
    {"tanh", nudge::tanh, [](long double x) { return std::tanh(x); }, -20, 20},
    {"sigmoid", nudge::sigmoid, sigmoid_reference, -100, 100},
};

/// Distance in units in the last place between two finite values of T.
template <class T> std::int64_t ulps(T a, T b) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
  const auto ordered = [](T v) {
    const Bits bits = std::bit_cast<Bits>(v);
    return bits < 0 ? std::int64_t(std::numeric_limits<Bits>::min()) - bits : std::int64_t(bits);
  };
  const std::int64_t d = ordered(a) - ordered(b);
  return d < 0 ? -d : d;
}

/// Log-uniform magnitudes (and both signs where the range has them) plus a fine grid near zero.
std::vector<double> inputs(const MathCase& c, std::size_t n) {
  Generator gen(17);
  const std::vector<double> u = rand({static_cast<std::int64_t>(n)}, gen, TensorOptions(kFloat64)).to_vector<double>();
  std::vector<double> values;
  for (std::size_t i = 0; i < n; ++i) {
    const double t = u[i];
    values.push_back(c.low + (c.high - c.low) * t);  // uniform
    const double magnitude = std::pow(10.0, -20 + 22 * t) * (c.high > 0 ? 1 : 0);
    if (magnitude > c.low && magnitude < c.high) values.push_back(magnitude);
    if (-magnitude > c.low && -magnitude < c.high) values.push_back(-magnitude);
  }
  return values;
}

template <class T> void expect_within(const MathCase& c, std::int64_t bound) {
  const DType dtype = std::is_same_v<T, float> ? kFloat32 : kFloat64;
  const std::vector<double> x = inputs(c, 20000);
  const Tensor in = tensor(x, TensorOptions(dtype));
  const std::vector<T> got = c.op(in).template to_vector<T>(), xs = in.to_vector<T>();
  std::int64_t worst = 0;
  double worst_at = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const T expected = static_cast<T>(c.reference(static_cast<long double>(xs[i])));
    if (!std::isfinite(expected) || expected == T(0)) continue;  // overflow/underflow edges: the special-value test
    const std::int64_t e = ulps(got[i], expected);
    if (e > worst) worst = e, worst_at = static_cast<double>(xs[i]);
  }
  EXPECT_LE(worst, bound) << c.name << " " << dtype_name(dtype) << ": " << worst << " ulp at x = " << worst_at;
}

TEST(VectorMath, WithinTheUlpBoundOfLongDoubleLibm) {
  for (const MathCase& c : kCases) {
    // sigmoid composes exp (1 ulp), an add and a division: 2 ulp in float64 (measured, as bounded).
    // tanh: SLEEF's is within 1, glibc's scalar one (CPUs without AVX2, NUDGE_SCALAR_MATH=1) 2.
    const std::string name = c.name;
    expect_within<double>(c, name == "sigmoid" || name == "tanh" ? 2 : 1);
    expect_within<float>(c, 2);
  }
}

TEST(VectorMath, SpecialValuesAsLibm) {
  const double inf = INFINITY, nan = NAN, tiny = 4.9e-324;
  const std::vector<double> specials = {0.0, -0.0, inf, -inf, nan, tiny, -tiny, 1e-310, 710, -746, 89, -104, 1, -1};
  for (const MathCase& c : kCases) {
    for (DType dtype : {kFloat32, kFloat64}) {
      const Tensor in = tensor(specials, TensorOptions(dtype));
      const std::vector<double> got = c.op(in).to(kFloat64).to_vector<double>(),
                                xs = in.to(kFloat64).to_vector<double>();
      for (std::size_t i = 0; i < xs.size(); ++i) {
        const double expected = dtype == kFloat32 ? static_cast<double>(static_cast<float>(c.reference(xs[i])))
                                                  : static_cast<double>(c.reference(xs[i]));
        SCOPED_TRACE(std::string(c.name) + " " + std::string(dtype_name(dtype)) + " of " + std::to_string(xs[i]));
        if (std::isnan(expected)) {
          EXPECT_TRUE(std::isnan(got[i])) << got[i];
        } else if (std::isinf(expected) || expected == 0) {
          EXPECT_EQ(got[i], expected);
          EXPECT_EQ(std::signbit(got[i]), std::signbit(expected));
        } else {
          EXPECT_NEAR(got[i], expected, std::abs(expected) * (dtype == kFloat32 ? 3e-7 : 3e-16));
        }
      }
    }
  }
}

// Every length of the tail the vector loop handles apart, and a strided input (the scalar loop).
TEST(VectorMath, TailsAndStridedInputsAgree) {
  for (const MathCase& c : kCases) {
    for (DType dtype : {kFloat32, kFloat64}) {
      for (std::int64_t n = 1; n <= 19; ++n) {
        const double lo = std::max(c.low, -3.0), hi = std::min(c.high, 3.0);
        std::vector<double> grid;
        for (std::int64_t i = 0; i < n; ++i) grid.push_back(lo + (hi - lo) * static_cast<double>(i) / 19.0);
        const Tensor x = tensor(grid, TensorOptions(dtype));
        const Tensor contiguous = c.op(x);
        // Element by element: each a 1-element tensor, computed through the tail path alone.
        for (std::int64_t i = 0; i < n; ++i)
          EXPECT_EQ(contiguous[i].item<double>(), c.op(x.narrow(0, i, 1)).item<double>()) << c.name << " n=" << n;
        // A strided view (every other element of a wider tensor) takes the scalar loop.
        const Tensor wide = stack({x, x}, 1).reshape({-1});
        const Tensor strided = c.op(wide.narrow(0, 0, 2 * n - 1).slice(0, 0, 2 * n - 1, 2));
        EXPECT_TRUE(all_close(strided, contiguous, 0, dtype == kFloat32 ? 3e-7 : 3e-16)) << c.name << " n=" << n;
      }
    }
  }
}

}  // namespace
}  // namespace nudge::testing

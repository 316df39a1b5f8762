#include "test_util.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace nudge::testing {

std::vector<Device> test_devices() { return {Device::cpu(), Device::cuda(0)}; }

bool cuda_required() {
  const char* v = std::getenv("NUDGE_REQUIRE_CUDA");
  return v != nullptr && std::string(v) != "" && std::string(v) != "0";
}

void DeviceTest::SetUp() {
  if (GetParam().is_cuda()) NUDGE_REQUIRE_CUDA();
}

std::string example_bin_dir() {
  if (const char* dir = std::getenv("NUDGE_BIN_DIR"); dir != nullptr && *dir) return dir;
  return std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
}

std::string device_param_name(const ::testing::TestParamInfo<Device>& info) {
  return info.param.is_cpu() ? "cpu" : "cuda" + std::to_string(info.param.index());
}

::testing::AssertionResult all_close(const Tensor& a, const Tensor& b, double atol, double rtol) {
  if (a.shape() != b.shape())
    return ::testing::AssertionFailure() << "shapes differ: " << shape_str(a.shape()) << " vs " << shape_str(b.shape());
  const auto x = a.to_vector<double>(), y = b.to_vector<double>();
  std::int64_t bad = 0, worst_at = -1;
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i]) && std::isnan(y[i])) continue;
    const double err = std::fabs(x[i] - y[i]), allowed = atol + rtol * std::fabs(y[i]);
    if (!(err <= allowed) && !(x[i] == y[i])) {
      ++bad;
      if (worst_at < 0 || err - allowed > worst) worst = err - allowed, worst_at = static_cast<std::int64_t>(i);
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << x.size() << " elements differ; worst at flat index "
                                       << worst_at << ": " << x[worst_at] << " vs " << y[worst_at] << " (atol " << atol
                                       << ", rtol " << rtol << ")";
}

::testing::AssertionResult values_are(const Tensor& a, const std::vector<double>& expected, double atol) {
  return all_close(a, tensor(expected, a.shape(), kFloat64), atol, 0);
}

::testing::AssertionResult throws_error_with(const std::function<void()>& fn,
                                             std::initializer_list<std::string> parts) {
  return throws_as<Error>(fn, parts);
}

}  // namespace nudge::testing

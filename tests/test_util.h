#pragma once
// Shared test helpers: the device list tests are parameterised over, closeness checks, and
// error-message checks.
#include <gtest/gtest.h>

#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include <nudge/nudge.h>

namespace nudge::testing {

/// cpu always, cuda:0 always listed: its cases SKIP with the reason when there is no device.
std::vector<Device> test_devices();

/// Parameterised over test_devices(); SetUp skips CUDA cases that cannot run.
class DeviceTest : public ::testing::TestWithParam<Device> {
 protected:
  void SetUp() override;
  Device device() const { return GetParam(); }
  TensorOptions options(DType dtype = kFloat32) const { return TensorOptions(dtype).device(GetParam()); }
};

/// Skips the current test with the reason when CUDA cannot be used.
#define NUDGE_REQUIRE_CUDA()                                                  \
  do {                                                                        \
    if (!::nudge::cuda::is_available()) GTEST_SKIP() << ::nudge::cuda::unavailable_reason(); \
  } while (0)

std::string device_param_name(const ::testing::TestParamInfo<Device>& info);

/// Every element satisfies |a - b| <= atol + rtol * |b| (NaNs must match); shapes must match.
::testing::AssertionResult all_close(const Tensor& a, const Tensor& b, double atol = 1e-6, double rtol = 1e-6);
::testing::AssertionResult values_are(const Tensor& a, const std::vector<double>& expected, double atol = 1e-6);

/// `fn` throws nudge::Error whose message contains every one of `parts`.
::testing::AssertionResult throws_error_with(const std::function<void()>& fn, std::initializer_list<std::string> parts);

}  // namespace nudge::testing

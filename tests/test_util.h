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

/// True when the environment says CUDA must be there (NUDGE_REQUIRE_CUDA=1, set by
/// `nudge-selftest --require-cuda`): a CUDA case that cannot run then FAILS instead of skipping,
/// so a broken driver or a CPU-only build cannot pass for a GPU run.
bool cuda_required();

/// Skips the current test with the reason when CUDA cannot be used (fails under cuda_required()).
#define NUDGE_REQUIRE_CUDA()                                                                                     \
  do {                                                                                                           \
    if (!::nudge::cuda::is_available()) {                                                                        \
      if (::nudge::testing::cuda_required()) FAIL() << "CUDA required: " << ::nudge::cuda::unavailable_reason(); \
      GTEST_SKIP() << ::nudge::cuda::unavailable_reason();                                                       \
    }                                                                                                            \
  } while (0)

/// Skips the current test when device `index` has less than `bytes` of free memory (big-shape
/// tests of grid limits and 64-bit indexing); never a failure, since the card decides.
#define NUDGE_REQUIRE_CUDA_MEMORY(index, bytes)                                                  \
  do {                                                                                           \
    if (::nudge::cuda::free_memory(index) < static_cast<std::size_t>(bytes))                     \
      GTEST_SKIP() << "needs " << ((bytes) >> 30) << " GiB free on cuda:" << (index) << ", has " \
                   << (::nudge::cuda::free_memory(index) >> 30) << " GiB";                       \
  } while (0)

/// The folder holding the example programs: NUDGE_BIN_DIR if set, else the test binary's own folder
/// (true in a build tree and in the installed package alike).
std::string example_bin_dir();

std::string device_param_name(const ::testing::TestParamInfo<Device>& info);

/// Every element satisfies |a - b| <= atol + rtol * |b| (NaNs must match); shapes must match.
::testing::AssertionResult all_close(const Tensor& a, const Tensor& b, double atol = 1e-6, double rtol = 1e-6);
::testing::AssertionResult values_are(const Tensor& a, const std::vector<double>& expected, double atol = 1e-6);

/// `fn` throws nudge::Error whose message contains every one of `parts`.
::testing::AssertionResult throws_error_with(const std::function<void()>& fn, std::initializer_list<std::string> parts);

/// Success when `fn` throws an `E` (a nudge::Error subclass) whose message holds every part.
template <class E>
::testing::AssertionResult throws_as(const std::function<void()>& fn, std::initializer_list<std::string> parts = {}) {
  try {
    fn();
  } catch (const E& e) {
    const std::string message = e.what();
    for (const auto& part : parts)
      if (message.find(part) == std::string::npos)
        return ::testing::AssertionFailure() << "message \"" << message << "\" lacks \"" << part << "\"";
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw the wrong kind of exception: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

}  // namespace nudge::testing

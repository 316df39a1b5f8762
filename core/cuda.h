#pragma once
/// CUDA availability, queried without needing CUDA headers.
#include <string>

namespace nudge::cuda {

/// True when nudge was built with CUDA and at least one device is usable.
bool is_available();
/// Number of usable CUDA devices (0 in a CPU-only build or without a GPU).
int device_count();
/// Why is_available() is false ("" when it is true).
std::string unavailable_reason();
/// Waits for all nudge work queued on `device`.
void synchronize(int device = 0);

}  // namespace nudge::cuda

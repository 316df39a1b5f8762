#include "core/autograd/grad_mode.h"

#include "core/hot_thread_local.h"

namespace nudge {

namespace {
thread_local bool grad_enabled NUDGE_HOT_THREAD_LOCAL = true;
thread_local bool anomaly_enabled NUDGE_HOT_THREAD_LOCAL = false;
}  // namespace

bool GradMode::is_enabled() { return grad_enabled; }
void GradMode::set_enabled(bool enabled) { grad_enabled = enabled; }
bool autograd::AnomalyMode::is_enabled() { return anomaly_enabled; }
void autograd::AnomalyMode::set_enabled(bool enabled) { anomaly_enabled = enabled; }

}  // namespace nudge

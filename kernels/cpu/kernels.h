#pragma once
/// The CPU backend's entry points, installed into kernels/dispatch.h by register_cpu_kernels().
#include "kernels/dispatch.h"

namespace nudge::kernels::cpu {

NUDGE_OP_FAMILIES(NUDGE_DECLARE_KERNEL)
DeviceRuntime runtime();
/// Applies NUDGE_NUM_THREADS to the BLAS library (once).
void apply_thread_environment();
/// The BLAS thread count (threads.cpp).
void set_threads(int threads);
int get_threads();

}  // namespace nudge::kernels::cpu

#pragma once
/// The CUDA backend's entry points, installed into kernels/dispatch.h by register_cuda_kernels().
#include "kernels/dispatch.h"

namespace nudge::kernels::cuda {

NUDGE_OP_FAMILIES(NUDGE_DECLARE_KERNEL)
DeviceRuntime runtime();
// graph.cpp: the DeviceRuntime's graph entries.
void capture_begin(int index);
void* capture_end(int index, bool abort);
void graph_replay(void* graph);
void graph_destroy(void* graph) noexcept;
bool stream_is_capturing(int index);

}  // namespace nudge::kernels::cuda

#pragma once
/// Capture-safe memory for CUDA graphs.
///
/// While a device's queue is being captured, nothing runs: kernels are recorded with the
/// addresses they will use on every replay. So every allocation made during a capture comes
/// from a private pool that the graph owns, and those addresses stay reserved until the graph
/// AND every tensor still holding one of its blocks are gone. Blocks freed during the capture go
/// back to the pool and may serve later allocations of the same capture (the captured work is one
/// in-order queue, so reuse is as safe as in eager mode).
///
/// Memory from outside the capturing pool that is freed during a capture (a tensor made before
/// the capture and dropped inside the step, or a block of an earlier graph's pool) may be read or
/// written by the captured kernels on every replay, so the capturing pool adopts it: it is given
/// back only when that pool dies. Nothing is given back to the driver while a capture is in
/// progress (cudaFree would invalidate the capture): such work waits until the capture ends.
#include <cstddef>
#include <functional>
#include <memory>

namespace nudge::kernels::cuda {

class GraphPool;

/// Starts routing device `index`'s allocations to a new pool.
void begin_capture_allocations(int index);
/// Stops routing; runs what waited for the end of the capture. Returns the pool, which the graph
/// keeps for as long as it lives (null when no capture was in progress).
std::shared_ptr<GraphPool> end_capture_allocations(int index);

/// A block for device `index` from its capturing pool, or nullptr when it is not capturing.
void* allocate_if_capturing(int index, std::size_t nbytes);
/// True when `ptr` was handled here: a pool block (returned to its pool, or adopted by the
/// capturing pool), or an outside block adopted because device `index` is capturing.
bool deallocate_if_captured(int index, void* ptr) noexcept;

/// Runs `action` now, or at the end of the capture in progress (device `index`'s, else any
/// device's) for work a capture forbids: freeing memory, synchronising, destroying a graph.
void run_when_not_capturing(int index, std::function<void()> action);

}  // namespace nudge::kernels::cuda

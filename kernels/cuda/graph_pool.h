#pragma once
/// Capture-safe memory for CUDA graphs.
///
/// While a device's queue is being captured, nothing runs: kernels are recorded with the
/// addresses they will use on every replay. So every allocation made during a capture comes
/// from a private pool that the graph owns, and those addresses stay reserved until the graph
/// AND every tensor still holding one of its blocks are gone. Blocks freed during the capture go
/// back to the pool and may serve later allocations of the same capture (the captured work is one
/// in-order queue, so reuse is as safe as in eager mode). Freeing memory from outside the pool
/// cannot be captured: such frees wait until the capture ends.
#include <cstddef>
#include <memory>

namespace nudge::cuda {

class GraphPool;

/// Starts routing device `index`'s allocations to a new pool.
void begin_capture_allocations(int index);
/// Stops routing; frees what was deferred during the capture. Returns the pool, which the graph
/// keeps for as long as it lives (null when no capture was in progress).
std::shared_ptr<GraphPool> end_capture_allocations(int index);

/// A block for device `index` from its capturing pool, or nullptr when it is not capturing.
void* allocate_if_capturing(int index, std::size_t nbytes);
/// True when `ptr` was handled here: a pool block (returned to its pool), or a free deferred
/// because device `index` is capturing.
bool deallocate_if_captured(int index, void* ptr) noexcept;

}  // namespace nudge::cuda

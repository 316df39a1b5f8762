#pragma once
/// Internal: the collectives over one CUDA device per rank, as nudge_distributed sees them. The
/// implementation (NCCL, nccl_communicator.h) is a module of its own, libnudge_distributed_nccl.so
/// beside libnudge_distributed, loaded on the first collective of a CUDA tensor: a CPU program of a
/// CUDA build (MPI ranks on CPU nodes, say) neither maps NCCL and the CUDA runtime nor needs them
/// installed to start.
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>

#include "backend.h"

namespace nudge::distributed {

class CudaCommunicator {
 public:
  virtual ~CudaCommunicator() = default;
  virtual std::shared_ptr<Work::Impl> all_reduce(const Tensor& tensor, ReduceOp op) = 0;
  virtual std::shared_ptr<Work::Impl> broadcast(const Tensor& tensor, int root) = 0;
  virtual std::shared_ptr<Work::Impl> all_gather(const Tensor& in, const Tensor& out) = 0;
  /// Throws the DistributedError that aborted this communicator, if one did.
  virtual void throw_if_failed() const = 0;
};

/// NCCL's unique id (NCCL_UNIQUE_ID_BYTES): rank 0 makes it, the others receive it over MPI.
using NcclUniqueId = std::array<char, 128>;

/// What the NCCL module provides (its exported C functions).
struct NcclModule {
  void (*make_unique_id)(NcclUniqueId* id) = nullptr;
  /// A communicator for `device` among `size` ranks; throws DistributedError on failure.
  CudaCommunicator* (*make_communicator)(int device, int rank, int size, const NcclUniqueId* id,
                                         std::int64_t timeout_ms) = nullptr;
};

/// The module, loaded once; throws DistributedError saying why it cannot be (not built, not found,
/// NCCL or the CUDA runtime missing on this machine).
const NcclModule& nccl_module();

}  // namespace nudge::distributed

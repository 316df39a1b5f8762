#pragma once
/// Internal: what a ProcessGroup asks of its transport. Two implementations: MPI (with NCCL for
/// CUDA tensors, when built with them) and a single process (every collective is the identity).
#include <chrono>
#include <memory>
#include <string>

#include "distributed/process_group.h"

namespace nudge::distributed {

/// A collective in flight.
class Work::Impl {
 public:
  virtual ~Impl() = default;
  /// Done? Throws DistributedError if it failed.
  virtual bool test() = 0;
  /// Blocks until done; throws DistributedError on failure or after `timeout`.
  virtual void wait(std::chrono::milliseconds timeout) = 0;
  /// Set by the group: what to name in a timeout message ("all_reduce of 1024 float32 on rank 1").
  std::string what;
  /// Set by the group: how long wait() may block (its ProcessGroupOptions::timeout; each group its own).
  std::chrono::milliseconds timeout = std::chrono::minutes(5);
};

class ProcessGroup::Backend {
 public:
  virtual ~Backend() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string description() const = 0;
  /// The collectives, on contiguous tensors already checked by ProcessGroup (dtype, layout).
  virtual std::shared_ptr<Work::Impl> all_reduce(const Tensor& tensor, ReduceOp op) = 0;
  virtual std::shared_ptr<Work::Impl> broadcast(const Tensor& tensor, int root) = 0;
  /// `out` is contiguous [size, *in.shape], same dtype and device.
  virtual std::shared_ptr<Work::Impl> all_gather(const Tensor& in, const Tensor& out) = 0;
  virtual void barrier(std::chrono::milliseconds timeout) = 0;
  /// In place over `values`: the elementwise max across ranks (blocking; the argument checks).
  virtual void max_int64(std::int64_t* values, int count, const std::string& what,
                         std::chrono::milliseconds timeout) = 0;
  /// Throws the DistributedError of a transport that failed on this rank (an NCCL communicator a
  /// watchdog aborted): work queued after that ran on half-reduced data.
  virtual void throw_if_failed() {}
};

/// A Work that is already done (single process, empty tensors).
std::shared_ptr<Work::Impl> completed_work();

}  // namespace nudge::distributed

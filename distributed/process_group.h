#pragma once
/// Collectives over the processes of a job: CPU tensors through MPI, CUDA tensors through NCCL
/// (its communicator set up over MPI, its work queued on nudge's CUDA stream so it is ordered
/// with nudge's kernels). Every call is made by every rank, in the same order, as in MPI.
///
///   distributed::ProcessGroup& group = env.group();
///   group.all_reduce(t, distributed::ReduceOp::Average);      // blocking: the Work waits when dropped
///   distributed::Work w = group.all_reduce(g);                 // asynchronous ...
///   w.wait();                                                  // ... until here
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"

namespace nudge::distributed {

/// A collective failed or timed out (another rank died, never called it, or passed a tensor of
/// another shape, dtype or device). The message names the op, this rank and what went wrong.
class DistributedError : public Error {
 public:
  using Error::Error;
};

enum class ReduceOp { Sum, Average };

/// An asynchronous collective. wait() returns when its result may be read: on the CPU when MPI has
/// completed it; on CUDA at once, since later nudge ops are queued behind it on the same stream.
/// A Work destroyed without wait() waits (a collective is never silently left behind).
class Work {
 public:
  class Impl;
  Work() = default;
  explicit Work(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  Work(Work&&) noexcept = default;
  Work& operator=(Work&& other) noexcept;
  Work(const Work&) = delete;
  Work& operator=(const Work&) = delete;
  ~Work();

  /// Blocks until done; throws DistributedError on failure or after the group's timeout.
  void wait();
  /// Done (without blocking)?
  bool is_completed();

 private:
  std::shared_ptr<Impl> impl_;
};

struct ProcessGroupOptions {
  /// How long a collective may take before wait() gives up with a DistributedError (a rank that
  /// died or skipped the call would otherwise hang the others forever). A CUDA collective still
  /// running after it has its NCCL communicator aborted by a watchdog thread: the stream behind it
  /// drains, and the next use of the group throws.
  std::chrono::milliseconds timeout = std::chrono::minutes(5);
  /// Before each collective called by the user, check with one small extra message that every
  /// rank passes the same op, dtype, device type and element count: a mismatch is a clear error
  /// instead of garbage or a hang. DistributedDataParallel checks its layout once, then skips this.
  bool check_arguments = true;
};

class ProcessGroup {
 public:
  class Backend;
  ProcessGroup(std::unique_ptr<Backend> backend, ProcessGroupOptions options);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const;
  int size() const;
  /// "mpi (Open MPI v4.1.4)", "single process (nudge built without MPI)", ...
  std::string description() const;
  const ProcessGroupOptions& options() const { return options_; }

  /// In place: `tensor` becomes the sum (or average) of every rank's `tensor`. float32, float64 or
  /// int64 (Average: float only), contiguous, on the CPU or a CUDA device.
  Work all_reduce(const Tensor& tensor, ReduceOp op = ReduceOp::Sum);
  /// In place: every rank's `tensor` becomes rank `root`'s.
  Work broadcast(const Tensor& tensor, int root = 0);
  /// out = the ranks' `tensor`s stacked along a new first dim ([size, *tensor.shape]).
  Tensor all_gather(const Tensor& tensor);
  /// Returns when every rank has called it.
  void barrier();
  /// Throws the DistributedError of a collective that failed on this rank and left the group
  /// unusable (an NCCL communicator aborted by its watchdog); returns when there is none.
  void check_healthy();

  /// all_reduce without the argument check (callers that verified their layout once).
  Work all_reduce_unchecked(const Tensor& tensor, ReduceOp op);

 private:
  void check_same_everywhere(const char* op, const Tensor& tensor, std::int64_t extra);
  std::unique_ptr<Backend> backend_;
  ProcessGroupOptions options_;
};

}  // namespace nudge::distributed

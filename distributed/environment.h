#pragma once
/// The process's place in a distributed job, for the lifetime of one object:
///
///   int main() {
///     nudge::distributed::Environment env;          // MPI_Init (under mpirun/srun), or a world of one
///     const Device device = env.device();           // cuda:<local rank> on a GPU node, else cpu
///     try {
///       ...
///     } catch (const std::exception& e) {
///       std::fprintf(stderr, "error: %s\n", e.what());
///       env.abort(1);                               // every rank stops, after this one said why
///     }
///   }                                              // MPI_Finalize (MPI_Abort when leaving by an exception)
///
/// A plain `./program` is a world of one. A build without MPI is too, and says so in description().
#include <mutex>
#include <string>

#include "core/device.h"
#include "distributed/process_group.h"

namespace nudge::distributed {

class Environment {
 public:
  explicit Environment(ProcessGroupOptions options = {});
  /// Finalises MPI; when an exception is unwinding the stack, aborts the job instead, so the
  /// other ranks stop rather than wait for this one.
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  /// Ends the whole job with `exit_code`: every rank, not only this one (the others would wait for
  /// it in their next collective until the timeout). For an error caught on one rank.
  [[noreturn]] void abort(int exit_code);

  int rank() const { return group_->rank(); }
  int world_size() const { return group_->size(); }
  /// Rank among the processes on this node.
  int local_rank() const { return local_rank_; }
  /// cuda:<local rank mod device count> where CUDA is available, else the CPU.
  Device device() const;
  /// All the processes of the job.
  ProcessGroup& group() { return *group_; }
  /// "rank 1 of 4 (local rank 1), mpi (Open MPI v4.1.4)".
  std::string description() const;
  /// True when nudge was built with MPI (else every Environment is a world of one).
  static bool built_with_mpi();

 private:
  std::unique_ptr<ProcessGroup> group_;
  int local_rank_ = 0;
  mutable std::once_flag device_set_;
  bool owns_mpi_ = false;
};

}  // namespace nudge::distributed

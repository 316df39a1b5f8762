#pragma once
/// Internal: the MPI job this process belongs to (compiled only with NUDGE_WITH_MPI).
#include <chrono>
#include <memory>

#include "backend.h"

namespace nudge::distributed::mpi {

/// Initialises MPI (thread level FUNNELED: every MPI call comes from the thread that runs
/// backward) unless the program already did; true when this call initialised it.
bool initialize();
/// MPI_Finalize, or MPI_Abort when `abort` (unwinding from an error: the other ranks must not
/// wait forever for this one). Only what initialize() started is finalised.
void finalize(bool abort);
/// Ends every process of the job with `exit_code` (MPI_Abort).
[[noreturn]] void abort_job(int exit_code);
/// Rank among the processes of this node (MPI_COMM_TYPE_SHARED), for choosing cuda:<local rank>.
int local_rank();
/// The world communicator as a backend: MPI for CPU tensors, NCCL for CUDA ones (when built), whose
/// collectives are aborted after `timeout`.
std::unique_ptr<ProcessGroup::Backend> make_backend(std::chrono::milliseconds timeout);

}  // namespace nudge::distributed::mpi

#include "distributed/environment.h"

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "core/cuda.h"
#include "single_process.h"
#ifdef NUDGE_WITH_MPI
#include "mpi_world.h"
#endif

namespace nudge::distributed {

Environment::Environment(ProcessGroupOptions options) {
#ifdef NUDGE_WITH_MPI
  owns_mpi_ = mpi::initialize();
  local_rank_ = mpi::local_rank();
  group_ = std::make_unique<ProcessGroup>(mpi::make_backend(options.timeout), options);
#else
  group_ = std::make_unique<ProcessGroup>(make_single_process_backend("nudge built without MPI"), options);
#endif
}

Environment::~Environment() {
  const bool abort = std::uncaught_exceptions() > 0 && group_->size() > 1;
  if (abort)
    std::fprintf(stderr,
                 "nudge::distributed: rank %d is leaving by an exception: aborting the job, so that the other "
                 "ranks do not wait for it (to print its message first, catch it and call Environment::abort)\n",
                 group_->rank());
  group_.reset();
#ifdef NUDGE_WITH_MPI
  if (owns_mpi_) mpi::finalize(abort);
#else
  (void)abort;
#endif
}

void Environment::abort(int exit_code) {
  std::fflush(stdout);
  std::fflush(stderr);
#ifdef NUDGE_WITH_MPI
  if (group_->size() > 1) mpi::abort_job(exit_code);
#endif
  std::exit(exit_code);
}

Device Environment::device() const {
  const int devices = cuda::device_count();
  return devices > 0 ? Device::cuda(local_rank_ % devices) : Device::cpu();
}

std::string Environment::description() const {
  return detail::concat("rank ", rank(), " of ", world_size(), " (local rank ", local_rank_, "), ",
                        group_->description());
}

bool Environment::built_with_mpi() {
#ifdef NUDGE_WITH_MPI
  return true;
#else
  return false;
#endif
}

}  // namespace nudge::distributed

#include "distributed/environment.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>

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
#ifdef NUDGE_WITH_MPI
  // MPI_Abort first: it ends every rank, while tearing NCCL down first could wait on a collective
  // the failed peers never join.
  if (abort && owns_mpi_) mpi::finalize(abort);
#endif
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
  // std::exit runs static destructors but not this object's: stop the group (its NCCL watchdog
  // thread) first, so no thread of nudge's runs on into the exit.
  group_.reset();
  std::exit(exit_code);
}

Device Environment::device() const {
  const int devices = cuda::device_count();
  // A rank on a GPU machine whose CUDA is broken (driver too old, a library missing) must not go
  // on silently on the CPU while its peers train on GPUs.
  if (devices == 0 && world_size() > 1 && std::filesystem::exists("/dev/nvidiactl"))
    throw DistributedError(detail::concat("distributed: rank ", rank(),
                                          " runs on a machine with an NVIDIA GPU but cannot use CUDA (",
                                          cuda::unavailable_reason(), "); fix the driver or CUDA libraries"));
  if (devices == 0) return Device::cpu();
  const Device mine = Device::cuda(local_rank_ % devices);
  // The rank's GPU becomes its current device once: NCCL and any code beside nudge then use it,
  // and no other GPU gets a context from this process.
  std::call_once(device_set_, [&] { cuda::set_device(mine.index()); });
  return mine;
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

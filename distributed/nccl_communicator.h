#pragma once
/// Internal: an NCCL communicator over one CUDA device per rank (compiled with NUDGE_WITH_NCCL).
/// Its collectives are queued on nudge's stream for that device (cuda::stream), so they run
/// after the kernels that produced their input and before those that read their output.
#include <array>
#include <memory>

#include "backend.h"

namespace nudge::distributed::nccl {

using UniqueId = std::array<char, 128>;  // NCCL_UNIQUE_ID_BYTES

/// A fresh id (rank 0 makes it; the others receive it over MPI).
UniqueId make_unique_id();

class Communicator {
 public:
  Communicator(int device, int rank, int size, const UniqueId& id);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int device() const { return device_; }
  std::shared_ptr<Work::Impl> all_reduce(const Tensor& tensor, ReduceOp op);
  std::shared_ptr<Work::Impl> broadcast(const Tensor& tensor, int root);
  std::shared_ptr<Work::Impl> all_gather(const Tensor& in, const Tensor& out);

 private:
  int device_;
  void* comm_ = nullptr;  // ncclComm_t
};

}  // namespace nudge::distributed::nccl

#pragma once
/// Internal: an NCCL communicator over one CUDA device per rank (compiled with NUDGE_WITH_NCCL).
/// Its collectives are queued on nudge's stream for that device (cuda::stream), so they run
/// after the kernels that produced their input and before those that read their output: waiting
/// for one costs the host nothing, and a collective made while that stream is captured into a
/// CUDA graph becomes part of the graph (NCCL 2.9 and later allow it; the communicator must exist
/// before the capture -- one collective on the device before it, as any warm-up).
///
/// A watchdog thread follows the collectives in flight. When one has not finished within the
/// group's timeout, or NCCL reports an asynchronous error (a peer died), it aborts the
/// communicator -- which also ends the NCCL kernel a stream was blocked behind, so a host waiting
/// on that stream (reading a loss, say) returns -- and every later use of this communicator throws
/// a DistributedError saying what happened.
#include <array>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cuda_communicator.h"

namespace nudge::distributed::nccl {

using UniqueId = NcclUniqueId;

/// Why a communicator was aborted: shared with its Works, which may outlive it.
class Failure {
 public:
  /// Throws the DistributedError that aborted the communicator, if one did.
  void throw_if_set() const;
  bool is_set() const;
  void set(std::string message);

 private:
  mutable std::mutex mutex_;
  std::string message_;
};

class Communicator : public CudaCommunicator {
 public:
  Communicator(int device, int rank, int size, const UniqueId& id, std::chrono::milliseconds timeout);
  ~Communicator() override;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int device() const { return device_; }
  std::shared_ptr<Work::Impl> all_reduce(const Tensor& tensor, ReduceOp op) override;
  std::shared_ptr<Work::Impl> broadcast(const Tensor& tensor, int root) override;
  std::shared_ptr<Work::Impl> all_gather(const Tensor& in, const Tensor& out) override;
  void throw_if_failed() const override { failure_->throw_if_set(); }

 private:
  /// A collective in flight: done when its event (recorded after it on the stream) has passed.
  struct InFlight {
    std::shared_ptr<void> event;  // cudaEvent_t, shared with the collective's Work
    std::chrono::steady_clock::time_point deadline;
    std::string what;
  };
  /// Queues `launch` (an NCCL call of `bytes` on nudge's stream) and returns its Work; `what` names
  /// it in errors.
  template <class Launch> std::shared_ptr<Work::Impl> run(const std::string& what, std::size_t bytes, Launch launch);
  void watch();
  /// Polls a non-blocking communicator until its last call completed; past the group's timeout (or
  /// on an error) aborts it and throws, naming `what`.
  void wait_until_ready(const std::string& what);
  /// With mutex_ held: ncclCommAbort, and every later use throws `why`.
  void abort_locked(const std::string& why);

  int device_;
  void* comm_ = nullptr;  // ncclComm_t
  std::chrono::milliseconds timeout_;
  std::shared_ptr<Failure> failure_ = std::make_shared<Failure>();
  std::mutex mutex_;         // guards in_flight_, stopping_ and aborting
  std::mutex launch_mutex_;  // one enqueue at a time on comm_ (never held by the watchdog)
  std::condition_variable wake_;
  std::deque<InFlight> in_flight_;
  /// Replays of graphs holding this communicator's collectives, queued by the graphs' after-replay
  /// hooks (which may outlive the communicator, hence shared) and moved to in_flight_ by the watchdog.
  struct Replays {
    std::mutex mutex;
    std::vector<InFlight> queued;
  };
  std::shared_ptr<Replays> replays_ = std::make_shared<Replays>();
  std::size_t largest_bytes_ = 0;  // the largest collective so far: NCCL's buffers for it exist
  bool stopping_ = false;
  std::thread watchdog_;
};

}  // namespace nudge::distributed::nccl

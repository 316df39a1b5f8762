// NCCL collectives on nudge's CUDA stream, followed by a watchdog thread (nccl_communicator.h).
#include "nccl_communicator.h"

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstdio>
#include <cstring>
#include <exception>

#include "core/cuda.h"
#include "core/graph.h"

namespace nudge::distributed::nccl {

namespace {

/// Throws on failure; returns ncclSuccess or ncclInProgress (a non-blocking call still under way).
ncclResult_t check_nccl(ncclResult_t result, const char* call) {
  if (result != ncclSuccess && result != ncclInProgress)
    throw DistributedError(
        detail::concat("distributed: ", call, " failed: ", ncclGetErrorString(result),
                       result == ncclSystemError || result == ncclRemoteError ? " (another rank may have died)"
                       : result == ncclUnhandledCudaError
                           ? " (a CUDA call inside NCCL failed, most often out of memory; outside a graph capture, "
                             "nudge gave back its cached memory and tried once more first)"
                           : ""));
  return result;
}

/// Throws on failure, after clearing the runtime's last error: it would otherwise be thrown again by
/// the next, unrelated launch check in nudge.
void check_cuda(cudaError_t result, const char* call) {
  if (result == cudaSuccess) return;
  cudaGetLastError();
  throw DistributedError(detail::concat("distributed: ", call, " failed: ", cudaGetErrorString(result)));
}

ncclDataType_t nccl_type(DType dtype) {
  switch (dtype) {
    case DType::Float32: return ncclFloat32;
    case DType::Float64: return ncclFloat64;
    case DType::Int64: return ncclInt64;
    case DType::Bool: return ncclUint8;  // one byte, 0 or 1: moved, never summed
  }
  return ncclUint8;
}

/// Makes the communicator's device current for the calls in its scope, and leaves it current:
/// it is the rank's GPU (Environment::device() set it once), and restoring the thread's previous
/// device would create a context there (CUDA 12+) — on GPU 0, in every rank. Never throws (used
/// in deleters); a failure is reported and cleared.
class CurrentDevice {
 public:
  explicit CurrentDevice(int device) noexcept {
    int current = -1;
    if (cudaGetDevice(&current) == cudaSuccess && current == device) return;
    if (const cudaError_t err = cudaSetDevice(device); err != cudaSuccess) {
      cudaGetLastError();
      std::fprintf(stderr, "nudge::distributed: cudaSetDevice(%d) failed: %s\n", device, cudaGetErrorString(err));
    }
  }
  CurrentDevice(const CurrentDevice&) = delete;
  CurrentDevice& operator=(const CurrentDevice&) = delete;
};

/// A CUDA event on `device`, destroyed with its last owner (the Work, or the watchdog's list).
std::shared_ptr<void> record_event(int device, cudaStream_t stream) {
  cudaEvent_t event = nullptr;
  check_cuda(cudaEventCreateWithFlags(&event, cudaEventDisableTiming), "cudaEventCreate");
  std::shared_ptr<void> owned(event, [device](void* e) {
    CurrentDevice on(device);
    if (const cudaError_t err = cudaEventDestroy(static_cast<cudaEvent_t>(e)); err != cudaSuccess) {
      cudaGetLastError();
      std::fprintf(stderr, "nudge::distributed: cudaEventDestroy failed: %s\n", cudaGetErrorString(err));
    }
  });
  check_cuda(cudaEventRecord(event, stream), "cudaEventRecord");
  return owned;
}

/// The Work of a collective on nudge's stream. Waiting costs the host nothing: every later nudge op
/// on the device is queued behind the collective. The tensors may be freed as soon as wait returns:
/// nudge's allocator reuses device memory in the order of that same stream.
class NcclWork : public Work::Impl {
 public:
  /// `event`: recorded after the collective; null when it was captured into a graph.
  NcclWork(std::shared_ptr<const Failure> failure, int device, std::shared_ptr<void> event)
      : failure_(std::move(failure)), device_(device), event_(std::move(event)) {}

  bool test() override {
    failure_->throw_if_set();
    if (event_ == nullptr) return true;  // captured into a CUDA graph: it runs at each replay
    CurrentDevice on(device_);
    const cudaError_t state = cudaEventQuery(static_cast<cudaEvent_t>(event_.get()));
    if (state == cudaErrorNotReady) return false;
    check_cuda(state, "cudaEventQuery");
    return true;
  }
  void wait(std::chrono::milliseconds) override { failure_->throw_if_set(); }

 private:
  std::shared_ptr<const Failure> failure_;
  int device_;
  std::shared_ptr<void> event_;
};

}  // namespace

}  // namespace nudge::distributed::nccl

// ---- the module's entry points (cuda_communicator.h: nccl_module) ----------------------------------

extern "C" __attribute__((visibility("default"))) void nudge_nccl_unique_id(nudge::distributed::NcclUniqueId* out) {
  static_assert(sizeof(ncclUniqueId) == sizeof(nudge::distributed::NcclUniqueId), "NCCL_UNIQUE_ID_BYTES changed");
  ncclUniqueId id;
  nudge::distributed::nccl::check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
  std::memcpy(out->data(), &id, out->size());
}

extern "C" __attribute__((visibility("default"))) nudge::distributed::CudaCommunicator* nudge_nccl_make_communicator(
    int device, int rank, int size, const nudge::distributed::NcclUniqueId* id, std::int64_t timeout_ms) {
  return new nudge::distributed::nccl::Communicator(device, rank, size, *id, std::chrono::milliseconds(timeout_ms));
}

namespace nudge::distributed::nccl {

Communicator::Communicator(int device, int rank, int size, const UniqueId& id, std::chrono::milliseconds timeout)
    : device_(device), timeout_(timeout) {
  CurrentDevice on(device);
  ncclUniqueId nccl_id;
  std::memcpy(&nccl_id, id.data(), id.size());
  // Non-blocking: creation returns at once and is polled against the group's deadline, so a peer
  // that never creates its communicator is an error in seconds, not a hang; and the watchdog can
  // abort a communicator whose enqueue is stuck.
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  ncclComm_t comm = nullptr;
  check_nccl(ncclCommInitRankConfig(&comm, size, nccl_id, rank, &config), "ncclCommInitRankConfig");
  comm_ = comm;
  wait_until_ready("the creation of the NCCL communicator (every rank must make the same first collective)");
  try {
    watchdog_ = std::thread([this] { watch(); });
  } catch (...) {  // no thread to watch it: the communicator is not kept
    ncclCommAbort(comm);
    throw;
  }
}

void Failure::throw_if_set() const {
  std::lock_guard lock(mutex_);
  if (!message_.empty()) throw DistributedError(message_);
}

bool Failure::is_set() const {
  std::lock_guard lock(mutex_);
  return !message_.empty();
}

void Failure::set(std::string message) {
  std::lock_guard lock(mutex_);
  if (message_.empty()) message_ = std::move(message);
}

Communicator::~Communicator() {
  // ncclCommDestroy waits for the collectives in flight, forever for one a peer never joined: let
  // the watchdog see them finish or pass their deadline (it aborts then), and abort at once when
  // the group is being destroyed by an exception (a peer may be waiting on this rank).
  if (std::uncaught_exceptions() > 0) {
    std::lock_guard lock(mutex_);
    abort_locked("distributed: the process group was destroyed while an exception was unwinding");
  }
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (in_flight_.empty() || failure_->is_set()) {
        stopping_ = true;
        break;
      }
    }
    wake_.notify_all();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  wake_.notify_all();
  watchdog_.join();
  in_flight_.clear();
  CurrentDevice on(device_);
  if (failure_->is_set()) return;  // an aborted communicator is freed already
  // Non-blocking: finalising may go on in the background; it gets the group's timeout, then abort.
  const auto comm = static_cast<ncclComm_t>(comm_);
  ncclResult_t state = ncclCommFinalize(comm);
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  while (state == ncclInProgress && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
    ncclCommGetAsyncError(comm, &state);
  }
  if (state == ncclSuccess) ncclCommDestroy(comm);
  else ncclCommAbort(comm);
}

void Communicator::abort_locked(const std::string& why) {
  if (failure_->is_set()) return;
  failure_->set(why + "; the NCCL communicator of cuda:" + std::to_string(device_) +
                " was aborted, and every later collective on it fails");
  ncclCommAbort(static_cast<ncclComm_t>(comm_));
  in_flight_.clear();
}

// The watchdog: every 10 ms, forget the collectives whose events have passed; abort on a collective
// past its deadline or an asynchronous NCCL error. Aborting also ends the NCCL kernel the stream is
// blocked behind, so a host thread waiting on that stream returns. None of its calls touches nudge's
// stream: they are legal while the main thread captures a graph (capture mode ThreadLocal).
void Communicator::watch() {
  cudaSetDevice(device_);
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(10));
    if (stopping_ || failure_->is_set()) continue;
    {
      std::lock_guard queued(replays_->mutex);
      for (InFlight& replay : replays_->queued) in_flight_.push_back(std::move(replay));
      replays_->queued.clear();
    }
    while (!in_flight_.empty() &&
           cudaEventQuery(static_cast<cudaEvent_t>(in_flight_.front().event.get())) != cudaErrorNotReady)
      in_flight_.pop_front();
    ncclResult_t async = ncclSuccess;
    ncclCommGetAsyncError(static_cast<ncclComm_t>(comm_), &async);
    if (async != ncclSuccess && async != ncclInProgress) {
      abort_locked(detail::concat("distributed: an NCCL collective failed: ", ncclGetErrorString(async),
                                  " (another rank may have died)"));
    } else if (!in_flight_.empty() && std::chrono::steady_clock::now() > in_flight_.front().deadline) {
      abort_locked(detail::concat("distributed: the ", in_flight_.front().what, " did not complete within ",
                                  timeout_.count(), " ms: another rank failed, exited or never made this call"));
    }
  }
}

void Communicator::wait_until_ready(const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (;;) {
    ncclResult_t state = ncclSuccess;
    ncclCommGetAsyncError(static_cast<ncclComm_t>(comm_), &state);
    if (state == ncclSuccess) return;
    if (state != ncclInProgress || std::chrono::steady_clock::now() > deadline) {
      std::lock_guard lock(mutex_);
      abort_locked(state != ncclInProgress
                       ? detail::concat("distributed: ", what, " failed: ", ncclGetErrorString(state))
                       : detail::concat("distributed: ", what, " did not complete within ", timeout_.count(),
                                        " ms: another rank failed, exited or never made this call"));
      failure_->throw_if_set();
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

template <class Launch>
std::shared_ptr<Work::Impl> Communicator::run(const std::string& what, std::size_t bytes, Launch launch) {
  CurrentDevice on(device_);
  const auto stream = static_cast<cudaStream_t>(cuda::stream(device_));
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  check_cuda(cudaStreamIsCapturing(stream, &capture), "cudaStreamIsCapturing");
  // One launch at a time on this communicator, under a lock of their own: the watchdog's lock
  // (in_flight_) is never held across NCCL's enqueue, so it can always abort a stuck one.
  std::lock_guard launching(launch_mutex_);
  failure_->throw_if_set();
  if (bytes > largest_bytes_ && capture == cudaStreamCaptureStatusNone) {
    // NCCL allocates its buffers for a size lazily, with cudaMalloc, while nudge's pool keeps freed
    // memory cached without limit: give the cache back first, or NCCL can run out beside gigabytes
    // of nudge's free blocks.
    largest_bytes_ = bytes;
    cuda::empty_cache(device_);
  }
  const auto comm = static_cast<ncclComm_t>(comm_);
  ncclResult_t launched = launch(comm, stream);
  if (launched == ncclUnhandledCudaError && capture == cudaStreamCaptureStatusNone) {
    // A CUDA call inside NCCL failed, most often its own cudaMalloc (buffers for a new peer or
    // channel, not only for a new size) while nudge's pool held freed blocks. Give the cache back,
    // and try once more if the communicator is still healthy (an enqueue-time failure is returned,
    // not recorded as the communicator's error); otherwise the error below names the cause.
    cudaGetLastError();
    cuda::empty_cache(device_);
    ncclResult_t state = ncclSuccess;
    ncclCommGetAsyncError(comm, &state);
    if (state == ncclSuccess) launched = launch(comm, stream);
  }
  // A non-blocking communicator may take the enqueue in the background: ready before the next call.
  if (check_nccl(launched, what.c_str()) == ncclInProgress) wait_until_ready("the " + what);
  // Captured: the collective runs at each replay. A replay after an abort is refused (it would
  // wait forever on a dead communicator); each replay is watched with a deadline like an eager
  // collective (an event after the graph's launch; the watchdog aborts when it has not passed).
  if (capture != cudaStreamCaptureStatusNone) {
    nudge::Graph::before_each_replay([failure = failure_] { failure->throw_if_set(); });
    nudge::Graph::after_each_replay([replays = replays_, device = device_, timeout = timeout_, what] {
      const auto replay_stream = static_cast<cudaStream_t>(cuda::stream(device));
      std::lock_guard queued(replays->mutex);
      replays->queued.push_back({record_event(device, replay_stream), std::chrono::steady_clock::now() + timeout,
                                 "replayed CUDA graph holding the " + what});
    });
    return std::make_shared<NcclWork>(failure_, device_, nullptr);
  }
  std::shared_ptr<void> event = record_event(device_, stream);
  {
    std::lock_guard lock(mutex_);
    in_flight_.push_back({event, std::chrono::steady_clock::now() + timeout_, what});
  }
  return std::make_shared<NcclWork>(failure_, device_, std::move(event));
}

std::shared_ptr<Work::Impl> Communicator::all_reduce(const Tensor& tensor, ReduceOp op) {
  return run(
      detail::concat("NCCL all_reduce of ", tensor.numel(), " ", dtype_name(tensor.dtype()), " on cuda:", device_),
      static_cast<std::size_t>(tensor.numel()) * tensor.element_size(), [&](ncclComm_t comm, cudaStream_t stream) {
        return ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), static_cast<std::size_t>(tensor.numel()),
                             nccl_type(tensor.dtype()), op == ReduceOp::Average ? ncclAvg : ncclSum, comm, stream);
      });
}

std::shared_ptr<Work::Impl> Communicator::broadcast(const Tensor& tensor, int root) {
  return run(
      detail::concat("NCCL broadcast of ", tensor.numel(), " ", dtype_name(tensor.dtype()), " on cuda:", device_),
      static_cast<std::size_t>(tensor.numel()) * tensor.element_size(), [&](ncclComm_t comm, cudaStream_t stream) {
        return ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), static_cast<std::size_t>(tensor.numel()),
                             nccl_type(tensor.dtype()), root, comm, stream);
      });
}

std::shared_ptr<Work::Impl> Communicator::all_gather(const Tensor& in, const Tensor& out) {
  return run(detail::concat("NCCL all_gather of ", in.numel(), " ", dtype_name(in.dtype()), " on cuda:", device_),
             static_cast<std::size_t>(out.numel()) * out.element_size(), [&](ncclComm_t comm, cudaStream_t stream) {
               return ncclAllGather(in.data_ptr(), out.data_ptr(), static_cast<std::size_t>(in.numel()),
                                    nccl_type(in.dtype()), comm, stream);
             });
}

}  // namespace nudge::distributed::nccl

// NCCL collectives on nudge's CUDA stream. Completion is observed through a CUDA event recorded
// after each collective; a communicator that reports an asynchronous error, or a collective
// still running at the group's timeout, is aborted (ncclCommAbort) so that no kernel waits forever.
#include "nccl_communicator.h"

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "core/cuda.h"

namespace nudge::distributed::nccl {

namespace {

void check_nccl(ncclResult_t result, const char* call) {
  if (result != ncclSuccess && result != ncclInProgress)
    throw DistributedError(
        detail::concat("distributed: ", call, " failed: ", ncclGetErrorString(result),
                       result == ncclSystemError || result == ncclRemoteError ? " (another rank may have died)" : ""));
}

void check_cuda(cudaError_t result, const char* call) {
  if (result != cudaSuccess)
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

/// Sets the current CUDA device for the calls in its scope.
class CurrentDevice {
 public:
  explicit CurrentDevice(int device) {
    cudaGetDevice(&previous_);
    if (previous_ != device) cudaSetDevice(device);
  }
  ~CurrentDevice() { cudaSetDevice(previous_); }
  CurrentDevice(const CurrentDevice&) = delete;
  CurrentDevice& operator=(const CurrentDevice&) = delete;

 private:
  int previous_ = 0;
};

class NcclWork : public Work::Impl {
 public:
  NcclWork(int device, ncclComm_t comm) : device_(device), comm_(comm) {
    CurrentDevice on(device);
    check_cuda(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming), "cudaEventCreate");
    check_cuda(cudaEventRecord(event_, static_cast<cudaStream_t>(cuda::stream(device))), "cudaEventRecord");
  }
  ~NcclWork() override {
    CurrentDevice on(device_);
    cudaEventDestroy(event_);
  }
  NcclWork(const NcclWork&) = delete;
  NcclWork& operator=(const NcclWork&) = delete;

  bool test() override {
    CurrentDevice on(device_);
    ncclResult_t async = ncclSuccess;
    check_nccl(ncclCommGetAsyncError(comm_, &async), "ncclCommGetAsyncError");
    check_nccl(async, "an NCCL collective");
    const cudaError_t state = cudaEventQuery(event_);
    if (state == cudaErrorNotReady) return false;
    check_cuda(state, "cudaEventQuery");
    return true;
  }

  // Waits on the host, polling: a collective hung on a dead rank becomes an error after the timeout
  // (its communicator aborted) instead of a stream that never drains.
  void wait(std::chrono::milliseconds timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::microseconds(1);
    while (!test()) {
      if (std::chrono::steady_clock::now() > deadline) {
        ncclCommAbort(comm_);
        throw DistributedError(detail::concat("distributed: the ", what, " did not complete within ", timeout.count(),
                                              " ms: another rank failed, exited or never made this call; the NCCL "
                                              "communicator was aborted"));
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(200));
    }
  }

  std::vector<Tensor> buffers;  // alive until the collective has run

 private:
  int device_;
  ncclComm_t comm_;
  cudaEvent_t event_ = nullptr;
};

}  // namespace

UniqueId make_unique_id() {
  static_assert(sizeof(ncclUniqueId) == sizeof(UniqueId), "NCCL_UNIQUE_ID_BYTES changed");
  ncclUniqueId id;
  check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
  UniqueId out;
  std::memcpy(out.data(), &id, out.size());
  return out;
}

Communicator::Communicator(int device, int rank, int size, const UniqueId& id) : device_(device) {
  CurrentDevice on(device);
  ncclUniqueId nccl_id;
  std::memcpy(&nccl_id, id.data(), id.size());
  ncclComm_t comm = nullptr;
  check_nccl(ncclCommInitRank(&comm, size, nccl_id, rank), "ncclCommInitRank");
  comm_ = comm;
}

Communicator::~Communicator() {
  if (comm_ == nullptr) return;
  CurrentDevice on(device_);
  ncclCommDestroy(static_cast<ncclComm_t>(comm_));
}

std::shared_ptr<Work::Impl> Communicator::all_reduce(const Tensor& tensor, ReduceOp op) {
  CurrentDevice on(device_);
  const auto stream = static_cast<cudaStream_t>(cuda::stream(device_));
  check_nccl(ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), static_cast<std::size_t>(tensor.numel()),
                           nccl_type(tensor.dtype()), op == ReduceOp::Average ? ncclAvg : ncclSum,
                           static_cast<ncclComm_t>(comm_), stream),
             "ncclAllReduce");
  auto work = std::make_shared<NcclWork>(device_, static_cast<ncclComm_t>(comm_));
  work->buffers = {tensor};
  return work;
}

std::shared_ptr<Work::Impl> Communicator::broadcast(const Tensor& tensor, int root) {
  CurrentDevice on(device_);
  const auto stream = static_cast<cudaStream_t>(cuda::stream(device_));
  check_nccl(ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), static_cast<std::size_t>(tensor.numel()),
                           nccl_type(tensor.dtype()), root, static_cast<ncclComm_t>(comm_), stream),
             "ncclBroadcast");
  auto work = std::make_shared<NcclWork>(device_, static_cast<ncclComm_t>(comm_));
  work->buffers = {tensor};
  return work;
}

std::shared_ptr<Work::Impl> Communicator::all_gather(const Tensor& in, const Tensor& out) {
  CurrentDevice on(device_);
  const auto stream = static_cast<cudaStream_t>(cuda::stream(device_));
  check_nccl(ncclAllGather(in.data_ptr(), out.data_ptr(), static_cast<std::size_t>(in.numel()), nccl_type(in.dtype()),
                           static_cast<ncclComm_t>(comm_), stream),
             "ncclAllGather");
  auto work = std::make_shared<NcclWork>(device_, static_cast<ncclComm_t>(comm_));
  work->buffers = {in, out};
  return work;
}

}  // namespace nudge::distributed::nccl

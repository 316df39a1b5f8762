// The MPI transport: non-blocking MPI collectives on host tensors (completed by polling, so a
// rank that died or never called the collective becomes a timeout error rather than a hang), and
// NCCL for CUDA tensors, its communicator created over MPI the first time a device is used.
#include "mpi_world.h"

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "core/autograd/grad_mode.h"
#include "core/ops.h"
#ifdef NUDGE_WITH_NCCL
#include "core/cuda_graph.h"
#include "cuda_communicator.h"
#endif

namespace nudge::distributed::mpi {

namespace {

bool initialized_here = false;

std::string mpi_error(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return std::string(text, static_cast<std::size_t>(length));
}

void check_mpi(int code, const char* call) {
  if (code != MPI_SUCCESS) throw DistributedError(detail::concat("distributed: ", call, " failed: ", mpi_error(code)));
}

MPI_Datatype mpi_type(DType dtype) {
  switch (dtype) {
    case DType::Float32: return MPI_FLOAT;
    case DType::Float64: return MPI_DOUBLE;
    case DType::Int64: return MPI_INT64_T;
    case DType::Bool: return MPI_C_BOOL;
  }
  return MPI_BYTE;
}

/// Large tensors go as several non-blocking collectives of at most 4 MiB each, in flight together:
/// in one piece Open MPI's non-blocking all-reduce fell from 3 GB/s bus bandwidth near 1 MiB to
/// 0.46 GB/s at 64 MiB (2 ranks on this 2-core machine, 2.4x slower than gloo); in 4 MiB pieces
/// 64 MiB took 53-102 ms instead of 147 (noisy machine; bench/bench_distributed). MPI counts are
/// int besides.
constexpr std::int64_t kChunkBytes = std::int64_t{4} << 20;

/// Requests in flight and what to do when they complete (the division of an average).
class MpiWork : public Work::Impl {
 public:
  std::vector<MPI_Request> requests;
  std::function<void()> on_complete;
  std::vector<Tensor> buffers;  // the tensors MPI reads and writes, alive until it is done

  bool test() override {
    if (done_) return true;
    int flag = 0;
    check_mpi(MPI_Testall(static_cast<int>(requests.size()), requests.data(), &flag, MPI_STATUSES_IGNORE),
              "MPI_Testall");
    if (flag) complete();
    return done_;
  }

  // MPI moves a non-blocking collective on only inside MPI calls (one round per call), so waiting
  // is polling: yielding the core between polls for the first second (a sleep per round would add
  // its granularity to every one of a large message's rounds: 4x slower training at 2 ranks), then
  // sleeping, for a peer that is slow or gone.
  void wait(std::chrono::milliseconds timeout) override {
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + timeout;
    auto pause = std::chrono::microseconds(10);
    while (!test()) {
      const auto now = std::chrono::steady_clock::now();
      if (now > deadline)
        throw DistributedError(detail::concat(
            "distributed: the ", what, " did not complete within ", timeout.count(),
            " ms: another rank failed, exited or never made this call (every rank must call the same collectives "
            "in the same order). MPI cannot recover from this; end the job"));
      if (now - start < std::chrono::seconds(1)) {
        std::this_thread::yield();
      } else {
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::microseconds(1000));
      }
    }
  }

 private:
  void complete() {
    done_ = true;
    if (on_complete) on_complete();
    buffers.clear();
  }
  bool done_ = false;
};

class MpiBackend : public ProcessGroup::Backend {
 public:
  /// `timeout`: how long an NCCL collective may run before its communicator is aborted.
  explicit MpiBackend(std::chrono::milliseconds timeout) : timeout_(timeout) {
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);  // errors become DistributedError, not an abort
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~MpiBackend() override {
    nccl_.clear();
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string description() const override {
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int length = 0;
    MPI_Get_library_version(version, &length);
    std::string v(version, static_cast<std::size_t>(length));
    v = v.substr(0, v.find_first_of(",\n"));
#ifdef NUDGE_WITH_NCCL
    return "mpi (" + v + "), nccl for CUDA tensors";
#else
    return "mpi (" + v + ")";
#endif
  }

  std::shared_ptr<Work::Impl> all_reduce(const Tensor& tensor, ReduceOp op) override {
    if (tensor.is_cuda()) return nccl(tensor).all_reduce(tensor, op);
    auto work = std::make_shared<MpiWork>();
    work->buffers = {tensor};
    for_chunks(tensor, [&](char* data, int count) {
      work->requests.emplace_back();
      check_mpi(
          MPI_Iallreduce(MPI_IN_PLACE, data, count, mpi_type(tensor.dtype()), MPI_SUM, comm_, &work->requests.back()),
          "MPI_Iallreduce");
    });
    if (op == ReduceOp::Average)
      work->on_complete = [tensor, n = size_] {
        NoGradGuard no_grad;
        Tensor(tensor).copy_(div(tensor, Scalar(n)));
      };
    return work;
  }

  std::shared_ptr<Work::Impl> broadcast(const Tensor& tensor, int root) override {
    if (tensor.is_cuda()) return nccl(tensor).broadcast(tensor, root);
    auto work = std::make_shared<MpiWork>();
    work->buffers = {tensor};
    for_chunks(tensor, [&](char* data, int count) {
      work->requests.emplace_back();
      check_mpi(MPI_Ibcast(data, count, mpi_type(tensor.dtype()), root, comm_, &work->requests.back()), "MPI_Ibcast");
    });
    return work;
  }

  std::shared_ptr<Work::Impl> all_gather(const Tensor& in, const Tensor& out) override {
    if (in.is_cuda()) return nccl(in).all_gather(in, out);
    NUDGE_CHECK(in.numel() <= INT_MAX,
                "distributed::all_gather: tensors of more than 2^31 elements are not supported, got a ", describe(in));
    auto work = std::make_shared<MpiWork>();
    work->requests.emplace_back();
    const int count = static_cast<int>(in.numel());
    check_mpi(MPI_Iallgather(in.data_ptr(), count, mpi_type(in.dtype()), out.data_ptr(), count, mpi_type(in.dtype()),
                             comm_, &work->requests.back()),
              "MPI_Iallgather");
    work->buffers = {in, out};
    return work;
  }

  void barrier(std::chrono::milliseconds timeout) override {
    auto work = std::make_shared<MpiWork>();
    work->requests.emplace_back();
    check_mpi(MPI_Ibarrier(comm_, &work->requests.back()), "MPI_Ibarrier");
    work->what = detail::concat("barrier on rank ", rank_);
    work->wait(timeout);
  }

  void max_int64(std::int64_t* values, int count, const std::string& what, std::chrono::milliseconds timeout) override {
    auto work = std::make_shared<MpiWork>();
    work->requests.emplace_back();
    check_mpi(MPI_Iallreduce(MPI_IN_PLACE, values, count, MPI_INT64_T, MPI_MAX, comm_, &work->requests.back()),
              "MPI_Iallreduce");
    work->what = what;
    work->wait(timeout);
  }

 private:
  template <class F> static void for_chunks(const Tensor& tensor, F f) {
    char* data = static_cast<char*>(tensor.data_ptr());
    const std::int64_t chunk = kChunkBytes / static_cast<std::int64_t>(tensor.element_size());
    for (std::int64_t start = 0; start < tensor.numel(); start += chunk) {
      const std::int64_t count = std::min(chunk, tensor.numel() - start);
      f(data + start * static_cast<std::int64_t>(tensor.element_size()), static_cast<int>(count));
    }
  }

#ifdef NUDGE_WITH_NCCL
  /// The communicator of the tensor's device, created (collectively) on first use.
  CudaCommunicator& nccl(const Tensor& tensor) {
    const int device = tensor.device().index();
    auto it = nccl_.find(device);
    if (it != nccl_.end()) return *it->second;
    if (cuda::is_capturing(device))
      throw DistributedError(
          detail::concat("distributed: the first collective on cuda:", device,
                         " is inside a CUDA graph capture, and creating its NCCL "
                         "communicator allocates device memory; make one collective on that device before capturing"));
    const NcclModule& module = nccl_module();  // loaded now: a CPU run never maps NCCL or cudart
    NcclUniqueId id{};
    if (rank_ == 0) module.make_unique_id(&id);
    check_mpi(MPI_Bcast(id.data(), static_cast<int>(id.size()), MPI_BYTE, 0, comm_), "MPI_Bcast of the NCCL id");
    std::unique_ptr<CudaCommunicator> made(
        module.make_communicator(device, rank_, size_, &id, static_cast<std::int64_t>(timeout_.count())));
    return *nccl_.emplace(device, std::move(made)).first->second;
  }
  std::map<int, std::unique_ptr<CudaCommunicator>> nccl_;
#else
  struct NoNccl {
    template <class... A> std::shared_ptr<Work::Impl> all_reduce(A&&...) { return fail(); }
    template <class... A> std::shared_ptr<Work::Impl> broadcast(A&&...) { return fail(); }
    template <class... A> std::shared_ptr<Work::Impl> all_gather(A&&...) { return fail(); }
    static std::shared_ptr<Work::Impl> fail() {
      throw DistributedError("distributed: CUDA tensors need NCCL, and nudge was built without it (no CUDA toolkit)");
    }
  };
  NoNccl nccl(const Tensor&) { return {}; }
  std::map<int, int> nccl_;
#endif

 public:
  void throw_if_failed() override {
#ifdef NUDGE_WITH_NCCL
    for (const auto& [device, communicator] : nccl_) communicator->throw_if_failed();
#endif
  }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  std::chrono::milliseconds timeout_;
};

}  // namespace

bool initialize() {
  int already = 0;
  MPI_Initialized(&already);
  if (already) return false;
  int provided = 0;
  check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  initialized_here = true;
  return true;
}

void finalize(bool abort) {
  if (!initialized_here) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  if (abort) MPI_Abort(MPI_COMM_WORLD, 1);
  MPI_Finalize();
  initialized_here = false;
}

void abort_job(int exit_code) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::exit(exit_code);
}

int local_rank() {
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  int rank = 0;
  MPI_Comm_rank(node, &rank);
  MPI_Comm_free(&node);
  return rank;
}

std::unique_ptr<ProcessGroup::Backend> make_backend(std::chrono::milliseconds timeout) {
  return std::make_unique<MpiBackend>(timeout);
}

}  // namespace nudge::distributed::mpi

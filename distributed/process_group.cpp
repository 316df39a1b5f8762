#include "distributed/process_group.h"

#include <array>
#include <cstdio>

#include "core/autograd/grad_mode.h"
#include "core/ops.h"
#include "backend.h"

namespace nudge::distributed {

// ---- Work ------------------------------------------------------------------------------------------

namespace {
class CompletedWork : public Work::Impl {
 public:
  bool test() override { return true; }
  void wait(std::chrono::milliseconds) override {}
};
}  // namespace

std::shared_ptr<Work::Impl> completed_work() { return std::make_shared<CompletedWork>(); }

Work& Work::operator=(Work&& other) noexcept {
  if (this != &other) {
    if (impl_) {
      try {
        impl_->wait(impl_->timeout);
      } catch (...) {  // a move-assignment cannot report it; the next collective will fail too
      }
    }
    impl_ = std::move(other.impl_);
  }
  return *this;
}

Work::~Work() {
  if (!impl_) return;
  try {
    impl_->wait(impl_->timeout);
  } catch (const std::exception& e) {
    // A destructor must not throw; a dropped failed collective is reported, not lost.
    std::fprintf(stderr, "nudge::distributed: %s\n", e.what());
  }
}

void Work::wait() {
  if (!impl_) return;
  const std::shared_ptr<Impl> impl = std::move(impl_);
  impl->wait(impl->timeout);
}

bool Work::is_completed() {
  if (!impl_) return true;
  if (!impl_->test()) return false;
  impl_.reset();
  return true;
}

// ---- ProcessGroup ----------------------------------------------------------------------------------

ProcessGroup::ProcessGroup(std::unique_ptr<Backend> backend, ProcessGroupOptions options)
    : backend_(std::move(backend)), options_(options) {}

ProcessGroup::~ProcessGroup() = default;

int ProcessGroup::rank() const { return backend_->rank(); }
int ProcessGroup::size() const { return backend_->size(); }
std::string ProcessGroup::description() const { return backend_->description(); }

namespace {

void check_tensor(const char* op, const Tensor& t) {
  NUDGE_CHECK(t.defined(), "distributed::", op, ": got an undefined tensor");
  NUDGE_CHECK(t.is_contiguous(), "distributed::", op, ": expects a contiguous tensor (it is updated in place), got a ",
              describe(t), "; pass t.contiguous() and copy the result back");
}

std::string work_name(const char* op, const Tensor& t, int rank) {
  return detail::concat(op, " of a ", describe(t), " on rank ", rank);
}

}  // namespace

void ProcessGroup::check_same_everywhere(const char* op, const Tensor& tensor, std::int64_t extra) {
  if (!options_.check_arguments || size() == 1) return;
  // One max-reduction of each value and of its negation: all ranks agree exactly when max == -max(-x).
  const std::array<std::int64_t, 5> mine = {static_cast<std::int64_t>(tensor.dtype()),
                                            static_cast<std::int64_t>(tensor.device().type()), tensor.numel(),
                                            tensor.dim(), extra};
  std::array<std::int64_t, 10> both{};
  for (std::size_t i = 0; i < mine.size(); ++i) both[i] = mine[i], both[i + mine.size()] = -mine[i];
  backend_->max_int64(both.data(), static_cast<int>(both.size()),
                      detail::concat(op, " (its argument check) of a ", describe(tensor), " on rank ", rank()),
                      options_.timeout);
  const char* names[] = {"dtype", "device type", "element count", "number of dims", "root or op"};
  for (std::size_t i = 0; i < mine.size(); ++i)
    if (both[i] != -both[i + mine.size()])
      throw DistributedError(detail::concat("distributed::", op, ": the ranks disagree on the ", names[i], " (rank ",
                                            rank(), " passed a ", describe(tensor),
                                            "); every rank must pass a tensor of the same shape, dtype and device"));
}

Work ProcessGroup::all_reduce(const Tensor& tensor, ReduceOp op) {
  check_tensor("all_reduce", tensor);
  check_same_everywhere("all_reduce", tensor, static_cast<std::int64_t>(op));
  return all_reduce_unchecked(tensor, op);
}

Work ProcessGroup::all_reduce_unchecked(const Tensor& tensor, ReduceOp op) {
  check_tensor("all_reduce", tensor);
  NUDGE_CHECK(tensor.dtype() != kBool, "distributed::all_reduce: cannot sum a bool tensor (", describe(tensor), ")");
  NUDGE_CHECK(op != ReduceOp::Average || is_floating(tensor.dtype()),
              "distributed::all_reduce: an average needs a float tensor, got a ", describe(tensor));
  if (tensor.numel() == 0) return Work(completed_work());
  std::shared_ptr<Work::Impl> work = backend_->all_reduce(tensor, op);
  work->what = work_name("all_reduce", tensor, rank());
  work->timeout = options_.timeout;
  return Work(std::move(work));
}

Work ProcessGroup::broadcast(const Tensor& tensor, int root) {
  check_tensor("broadcast", tensor);
  NUDGE_CHECK(root >= 0 && root < size(), "distributed::broadcast: root ", root, " is not a rank of this group of ",
              size());
  check_same_everywhere("broadcast", tensor, root);
  if (tensor.numel() == 0) return Work(completed_work());
  std::shared_ptr<Work::Impl> work = backend_->broadcast(tensor, root);
  work->what = work_name("broadcast", tensor, rank());
  work->timeout = options_.timeout;
  return Work(std::move(work));
}

Tensor ProcessGroup::all_gather(const Tensor& tensor) {
  NUDGE_CHECK(tensor.defined(), "distributed::all_gather: got an undefined tensor");
  const Tensor in = tensor.contiguous();
  check_same_everywhere("all_gather", in, 0);
  Shape shape = in.shape();
  shape.insert(shape.begin(), size());
  Tensor out = empty(shape, TensorOptions(in.dtype()).device(in.device()));
  if (in.numel() == 0) return out;
  std::shared_ptr<Work::Impl> work = backend_->all_gather(in, out);
  work->what = work_name("all_gather", in, rank());
  work->timeout = options_.timeout;
  Work(std::move(work)).wait();
  return out;
}

void ProcessGroup::barrier() { backend_->barrier(options_.timeout); }

void ProcessGroup::check_healthy() { backend_->throw_if_failed(); }

}  // namespace nudge::distributed

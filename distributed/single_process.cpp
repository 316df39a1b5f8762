// A world of one process: every collective is the identity (all_gather copies). The transport of a
// build without MPI, so that a training program runs unchanged on a laptop.
#include "single_process.h"

#include "core/autograd/grad_mode.h"

namespace nudge::distributed {

namespace {

class SingleProcessBackend : public ProcessGroup::Backend {
 public:
  explicit SingleProcessBackend(std::string why) : why_(std::move(why)) {}
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string description() const override { return "single process (" + why_ + ")"; }
  std::shared_ptr<Work::Impl> all_reduce(const Tensor&, ReduceOp) override { return completed_work(); }
  std::shared_ptr<Work::Impl> broadcast(const Tensor&, int) override { return completed_work(); }
  std::shared_ptr<Work::Impl> all_gather(const Tensor& in, const Tensor& out) override {
    NoGradGuard no_grad;
    Tensor(out).select(0, 0).copy_(in);
    return completed_work();
  }
  void barrier(std::chrono::milliseconds) override {}
  void max_int64(std::int64_t*, int, const std::string&, std::chrono::milliseconds) override {}

 private:
  std::string why_;
};

}  // namespace

std::unique_ptr<ProcessGroup::Backend> make_single_process_backend(std::string why) {
  return std::make_unique<SingleProcessBackend>(std::move(why));
}

}  // namespace nudge::distributed

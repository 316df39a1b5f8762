#pragma once
/// Data-parallel training: every rank holds the same model and trains on its own shard of each
/// batch; after backward every rank holds the average of all ranks' gradients, so the optimizer
/// (unchanged) takes the same step everywhere. Same numbers as one process on the whole batch.
///
///   distributed::Environment env;
///   model.to(env.device());
///   distributed::DistributedDataParallel ddp(model, env.group());   // rank 0's weights everywhere
///   data::DataLoader loader(train, {..., .num_replicas = env.world_size(), .rank = env.rank()});
///   ... loss = nn::cross_entropy(ddp(batch.input), batch.target); loss.backward(); sgd.step();
///
/// Gradients are averaged in buckets of about `bucket_cap_bytes`, last layers first (the order
/// backward produces them); each bucket's all-reduce starts as soon as its last gradient has been
/// accumulated, while backward goes on with the layers below (PyTorch's DDP design).
#include <cstdint>
#include <memory>
#include <vector>

#include "core/autograd/hooks.h"
#include "distributed/process_group.h"
#include "nn/module.h"

namespace nudge::distributed {

/// Designated initialisers follow the field order: `{.bucket_cap_bytes, .broadcast_parameters}`.
struct DataParallelOptions {
  /// About this many bytes of gradients per all-reduce (PyTorch's default, 25 MiB); a larger
  /// parameter has a bucket of its own.
  std::int64_t bucket_cap_bytes = 25 * 1024 * 1024;
  /// Copy rank 0's parameters and buffers to every rank at construction.
  bool broadcast_parameters = true;
};

class DistributedDataParallel {
 public:
  /// Wraps `module` (which must outlive this object); every rank must pass the same architecture
  /// (checked: a different parameter count, shape or dtype on any rank is an error on all).
  DistributedDataParallel(nn::Module& module, ProcessGroup& group, DataParallelOptions options = {});
  ~DistributedDataParallel();
  DistributedDataParallel(const DistributedDataParallel&) = delete;
  DistributedDataParallel& operator=(const DistributedDataParallel&) = delete;

  Tensor forward(const Tensor& input) { return module_.forward(input); }
  Tensor operator()(const Tensor& input) { return forward(input); }
  nn::Module& module() { return module_; }

  /// While it lives, backward only accumulates gradients locally (gradient accumulation over
  /// micro-batches); the first backward after it averages everything accumulated.
  class NoSync {
   public:
    explicit NoSync(DistributedDataParallel& ddp) : ddp_(ddp), previous_(ddp.sync_) { ddp.sync_ = false; }
    ~NoSync() { ddp_.sync_ = previous_; }
    NoSync(const NoSync&) = delete;
    NoSync& operator=(const NoSync&) = delete;

   private:
    DistributedDataParallel& ddp_;
    bool previous_;
  };
  [[nodiscard]] NoSync no_sync() { return NoSync(*this); }

  std::size_t num_buckets() const { return buckets_.size(); }
  /// Buckets whose all-reduce the running (or last) backward has started: the overlap made visible.
  std::size_t buckets_launched() const { return next_bucket_; }
  /// The parameter indices (into module.parameters()) of each bucket, in launch order.
  std::vector<std::vector<std::size_t>> bucket_layout() const;

 private:
  struct Bucket {
    std::vector<std::size_t> params;
    std::vector<std::int64_t> offsets;  // of each parameter's gradient in `flat`
    Tensor flat;                        // the bucket's gradients, end to end
    std::size_t pending = 0;            // gradients not yet copied in during this backward
    Work work;
  };

  void check_same_model_everywhere();
  void on_gradient(std::size_t param);
  void launch_ready_buckets();
  void finish_backward();

  nn::Module& module_;
  ProcessGroup& group_;
  DataParallelOptions options_;
  std::vector<Tensor> params_;
  std::vector<Bucket> buckets_;
  std::vector<std::size_t> bucket_of_, slot_of_;
  std::vector<bool> ready_;
  std::vector<autograd::HookHandle> hooks_;
  std::size_t next_bucket_ = 0;
  bool in_backward_ = false;
  /// Alive while this backward's end-of-backward callback is queued (expired: that backward threw).
  std::weak_ptr<void> backward_token_;
  bool sync_ = true;
};

}  // namespace nudge::distributed

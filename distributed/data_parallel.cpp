#include "distributed/data_parallel.h"

#include "core/autograd/grad_mode.h"
#include "core/factory.h"
#include "core/ops.h"

namespace nudge::distributed {

DistributedDataParallel::DistributedDataParallel(nn::Module& module, ProcessGroup& group, DataParallelOptions options)
    : module_(module), group_(group), options_(options) {
  NUDGE_CHECK(options_.bucket_cap_bytes > 0, "DistributedDataParallel: bucket_cap_bytes must be positive, got ",
              options_.bucket_cap_bytes);
  for (const Tensor& p : module_.parameters())
    if (p.requires_grad()) params_.push_back(p);  // frozen parameters are neither averaged nor hooked
  check_same_model_everywhere();

  if (options_.broadcast_parameters) {
    NoGradGuard no_grad;
    std::vector<Tensor> state = params_;
    for (const Tensor& b : module_.buffers()) state.push_back(b);
    for (const Tensor& t : state) {
      NUDGE_CHECK(t.is_contiguous(), "DistributedDataParallel: parameters and buffers must be contiguous, got a ",
                  describe(t));
      group_.broadcast(t, 0).wait();
      t.storage()->bump_version();
    }
  }

  // Buckets, last parameters first (backward produces their gradients first); one dtype and device
  // per bucket.
  bucket_of_.resize(params_.size());
  slot_of_.resize(params_.size());
  std::int64_t bytes = 0;
  for (std::size_t k = params_.size(); k-- > 0;) {
    const Tensor& p = params_[k];
    const std::int64_t nbytes = p.numel() * static_cast<std::int64_t>(p.element_size());
    const bool fits = !buckets_.empty() && bytes + nbytes <= options_.bucket_cap_bytes &&
                      params_[buckets_.back().params.front()].dtype() == p.dtype() &&
                      params_[buckets_.back().params.front()].device() == p.device();
    if (!fits) {
      buckets_.emplace_back();
      bytes = 0;
    }
    Bucket& b = buckets_.back();
    bucket_of_[k] = buckets_.size() - 1;
    slot_of_[k] = b.params.size();
    b.offsets.push_back(b.params.empty() ? 0 : b.offsets.back() + params_[b.params.back()].numel());
    b.params.push_back(k);
    bytes += nbytes;
  }
  for (Bucket& b : buckets_) {
    const Tensor& last = params_[b.params.back()];
    b.flat = zeros({b.offsets.back() + last.numel()}, TensorOptions(last.dtype()).device(last.device()));
  }
  ready_.assign(params_.size(), false);
  for (std::size_t k = 0; k < params_.size(); ++k)
    hooks_.push_back(autograd::add_post_accumulate_grad_hook(params_[k], [this, k](const Tensor&) { on_gradient(k); }));
}

DistributedDataParallel::~DistributedDataParallel() = default;

std::vector<std::vector<std::size_t>> DistributedDataParallel::bucket_layout() const {
  std::vector<std::vector<std::size_t>> layout;
  for (const Bucket& b : buckets_) layout.push_back(b.params);
  return layout;
}

// Every rank must average the same buckets in the same order: compare each rank's parameter
// count, sizes and dtypes with rank 0's before any training (one all_gather).
void DistributedDataParallel::check_same_model_everywhere() {
  std::int64_t elements = 0;
  std::uint64_t shape_hash = 0;  // unsigned: wraps by definition
  for (const Tensor& p : params_) {
    elements += p.numel();
    for (const std::int64_t d : p.shape()) shape_hash = shape_hash * 31 + static_cast<std::uint64_t>(d) + 1;
    shape_hash = shape_hash * 7 + static_cast<std::uint64_t>(p.dtype());
  }
  const Tensor mine = from_vector<std::int64_t>(
      {static_cast<std::int64_t>(params_.size()), elements, static_cast<std::int64_t>(shape_hash)}, {3},
      TensorOptions(kInt64));
  const Tensor all = group_.all_gather(mine);
  const std::vector<std::int64_t> v = all.to_vector<std::int64_t>();
  for (int r = 0; r < group_.size(); ++r)
    NUDGE_CHECK(v[3 * r] == v[0] && v[3 * r + 1] == v[1] && v[3 * r + 2] == v[2], "DistributedDataParallel: rank ", r,
                " has a model with ", v[3 * r], " trainable parameters (", v[3 * r + 1], " elements), rank 0 one with ",
                v[0], " (", v[1], " elements) or other shapes or dtypes: every rank must build the same model");
}

void DistributedDataParallel::on_gradient(std::size_t param) {
  if (!sync_) return;
  // The first gradient of a backward: start over, and have the engine call back at its end. A
  // backward that threw never called back; the engine dropped the callback, and with it the token.
  if (!in_backward_ || backward_token_.expired()) {
    // The buckets that backward sent are still in flight: their flat buffers are about to be refilled.
    for (Bucket& b : buckets_) b.work.wait();
    in_backward_ = true;
    next_bucket_ = 0;
    ready_.assign(params_.size(), false);
    for (Bucket& b : buckets_) b.pending = b.params.size();
    auto token = std::make_shared<int>(0);
    backward_token_ = token;
    autograd::queue_callback([this, token] { finish_backward(); });
  }
  if (ready_[param]) return;
  ready_[param] = true;
  // MPI progresses a collective only inside MPI calls: a poll of those in flight lets them advance
  // while backward computes (NCCL's run by themselves; their poll is a cheap event query).
  for (std::size_t k = 0; k < next_bucket_; ++k) buckets_[k].work.is_completed();
  Bucket& b = buckets_[bucket_of_[param]];
  const Tensor& p = params_[param];
  {
    NoGradGuard no_grad;
    b.flat.narrow(0, b.offsets[slot_of_[param]], p.numel()).copy_(p.grad().reshape({-1}));
  }
  if (--b.pending == 0) launch_ready_buckets();
}

// Buckets start strictly in order, so that every rank issues the same collectives in the same order
// even if its gradients arrive in another.
void DistributedDataParallel::launch_ready_buckets() {
  while (next_bucket_ < buckets_.size() && buckets_[next_bucket_].pending == 0) {
    Bucket& b = buckets_[next_bucket_++];
    b.work = group_.all_reduce_unchecked(b.flat, ReduceOp::Average);
  }
}

void DistributedDataParallel::finish_backward() {
  in_backward_ = false;
  NoGradGuard no_grad;
  // Parameters this rank's graph did not reach still take part (another rank's may have): their
  // current gradient, or zeros.
  for (std::size_t k = 0; k < params_.size(); ++k) {
    if (ready_[k]) continue;
    Bucket& b = buckets_[bucket_of_[k]];
    Tensor slot = b.flat.narrow(0, b.offsets[slot_of_[k]], params_[k].numel());
    if (const Tensor grad = params_[k].grad(); grad.defined()) slot.copy_(grad.reshape({-1}));
    else slot.zero_();
    ready_[k] = true;
    --b.pending;
  }
  launch_ready_buckets();
  for (Bucket& b : buckets_) {
    b.work.wait();
    for (std::size_t s = 0; s < b.params.size(); ++s) {
      Tensor& p = params_[b.params[s]];
      const Tensor averaged = b.flat.narrow(0, b.offsets[s], p.numel()).view(p.shape());
      if (Tensor grad = p.grad(); grad.defined()) grad.copy_(averaged);
      else p.set_grad(averaged.clone());
    }
  }
}

}  // namespace nudge::distributed

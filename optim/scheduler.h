#pragma once
/// Learning-rate schedulers, as torch.optim.lr_scheduler: call step() once per epoch, after
/// the optimizer's step. Each has a state_dict() for checkpoints (serialization/checkpoint.h):
/// restored into a scheduler built the same way over the same optimizer, training continues at
/// exactly the rate the uninterrupted run would have used.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/state_dict.h"
#include "optim/optimizer.h"

namespace nudge::optim {

/// What every scheduler offers a checkpoint.
class Scheduler {
 public:
  virtual ~Scheduler() = default;
  /// "StepLR", "CosineAnnealingLR", ...: a state is only loaded into the kind that saved it.
  virtual const char* name() const = 0;
  /// The scheduler's position ("type.<name>" plus its counters), as 0-dim tensors.
  virtual NamedTensors state_dict() const = 0;
  /// Restores a state_dict() of the same kind; checks everything before changing anything.
  virtual void load_state_dict(const NamedTensors& state) = 0;
};

/// Base for schedulers whose rate is a function of the epoch and each group's initial rate, as
/// PyTorch's: each group's `initial_lr` is set by the first scheduler built over it (so a warmup
/// and a cosine built one after the other share it), and building a scheduler sets the rate to its
/// epoch-0 value (LinearLR's start factor, LambdaLR's lambda(0)). load_state_dict restores the
/// epoch and base rates and sets each group's rate for that epoch.
class LRScheduler : public Scheduler {
 public:
  explicit LRScheduler(Optimizer& optimizer);
  void step();
  std::int64_t epoch() const { return epoch_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }

  NamedTensors state_dict() const override;
  void load_state_dict(const NamedTensors& state) override;

  /// The rate at `epoch` for a group whose initial rate is `base_lr` (a pure function).
  virtual double rate_at(std::int64_t epoch, double base_lr) const = 0;
  /// The same for parameter group `group`: rate_at, unless the schedule differs by group
  /// (LambdaLR with one lambda per group).
  virtual double group_rate_at(std::int64_t epoch, double base_lr, std::size_t group) const {
    (void)group;
    return rate_at(epoch, base_lr);
  }

 protected:
  /// Sets every group's rate for the current epoch: each subclass's constructor ends with it.
  void apply_rates();

 private:
  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  std::int64_t epoch_ = 0;
};

/// lr = base · gamma^⌊epoch / step_size⌋
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma = 0.1);
  const char* name() const override { return "StepLR"; }
  double rate_at(std::int64_t epoch, double base_lr) const override;

 private:
  std::int64_t step_size_;
  double gamma_;
};

/// lr = base · gamma^epoch
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma);
  const char* name() const override { return "ExponentialLR"; }
  double rate_at(std::int64_t epoch, double base_lr) const override;

 private:
  double gamma_;
};

/// lr = eta_min + (base − eta_min) · (1 + cos(π · epoch / T_max)) / 2
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, std::int64_t t_max, double eta_min = 0);
  const char* name() const override { return "CosineAnnealingLR"; }
  double rate_at(std::int64_t epoch, double base_lr) const override;

 private:
  std::int64_t t_max_;
  double eta_min_;
};

/// lr = base · lambda(epoch), the same lambda for every group (PyTorch also takes one per group;
/// nudge does not yet). A checkpoint saves the epoch, not the lambda: rebuild it the same way.
class LambdaLR : public LRScheduler {
 public:
  using Lambda = std::function<double(std::int64_t epoch)>;
  /// One factor for every group: lr = base · lambda(epoch).
  LambdaLR(Optimizer& optimizer, Lambda lambda);
  /// One lambda per parameter group, in the optimizer's group order (PyTorch's lr_lambda list).
  LambdaLR(Optimizer& optimizer, std::vector<Lambda> lambdas);
  const char* name() const override { return "LambdaLR"; }
  /// With group 0's lambda.
  double rate_at(std::int64_t epoch, double base_lr) const override;
  double group_rate_at(std::int64_t epoch, double base_lr, std::size_t group) const override;

 private:
  std::vector<Lambda> lambdas_;  // one, or one per group
};

/// Linear warmup (or decay): lr = base · (start + (end − start) · min(epoch, total_iters) / total_iters).
class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& optimizer, double start_factor = 1.0 / 3, double end_factor = 1.0, std::int64_t total_iters = 5);
  const char* name() const override { return "LinearLR"; }
  double rate_at(std::int64_t epoch, double base_lr) const override;

 private:
  double start_factor_, end_factor_;
  std::int64_t total_iters_;
};

/// One schedule after another: schedulers[i] runs from milestones[i-1] (its own epoch 0 there) to
/// milestones[i]. Warmup then cosine, as PyTorch's SequentialLR:
///
///   auto warmup = std::make_shared<optim::LinearLR>(opt, 0.1, 1.0, 5);
///   auto cosine = std::make_shared<optim::CosineAnnealingLR>(opt, 95);
///   optim::SequentialLR schedule(opt, {warmup, cosine}, {5});
class SequentialLR : public LRScheduler {
 public:
  SequentialLR(Optimizer& optimizer, std::vector<std::shared_ptr<LRScheduler>> schedulers,
               std::vector<std::int64_t> milestones);
  const char* name() const override { return "SequentialLR"; }
  double rate_at(std::int64_t epoch, double base_lr) const override;
  double group_rate_at(std::int64_t epoch, double base_lr, std::size_t group) const override;

 private:
  std::vector<std::shared_ptr<LRScheduler>> schedulers_;
  std::vector<std::int64_t> milestones_;
};

/// One cycle (Smith & Topin), as PyTorch's OneCycleLR with cosine annealing: the rate climbs from
/// max_lr / div_factor to max_lr over the first pct_start of total_steps, then falls to
/// max_lr / (div_factor · final_div_factor); momentum (SGD's momentum, Adam's beta1, set per
/// group) moves the other way between max_momentum and base_momentum. step() after EVERY
/// optimizer step, not every epoch; stepping past total_steps is an error.
class OneCycleLR : public Scheduler {
 public:
  struct Options {  // fields in this order
    double pct_start = 0.3;
    bool cycle_momentum = true;
    double base_momentum = 0.85;
    double max_momentum = 0.95;
    double div_factor = 25;
    double final_div_factor = 1e4;
  };
  OneCycleLR(Optimizer& optimizer, double max_lr, std::int64_t total_steps, Options options);
  OneCycleLR(Optimizer& optimizer, double max_lr, std::int64_t total_steps)
      : OneCycleLR(optimizer, max_lr, total_steps, Options{}) {}
  void step();
  std::int64_t steps_taken() const { return step_; }
  const char* name() const override { return "OneCycleLR"; }
  NamedTensors state_dict() const override;
  void load_state_dict(const NamedTensors& state) override;

 private:
  /// Sets every group's rate (and momentum) for step_.
  void apply();
  Optimizer& optimizer_;
  double max_lr_;
  std::int64_t total_steps_;
  Options options_;
  bool uses_beta1_;  // Adam/AdamW cycle beta1; SGD its momentum
  std::int64_t step_ = 0;
};

/// Multiplies the rate by `factor` once the metric has not improved (by a relative `threshold`,
/// lower is better) for more than `patience` epochs; then waits `cooldown` epochs.
class ReduceLROnPlateau : public Scheduler {
 public:
  struct Options {  // designated initialisers in this order: {.factor, .patience, .threshold, .cooldown, .min_lr}
    double factor = 0.1;
    std::int64_t patience = 10;
    double threshold = 1e-4;
    std::int64_t cooldown = 0;
    double min_lr = 0;
  };
  ReduceLROnPlateau(Optimizer& optimizer, Options options);
  explicit ReduceLROnPlateau(Optimizer& optimizer) : ReduceLROnPlateau(optimizer, Options{}) {}
  void step(double metric);
  const char* name() const override { return "ReduceLROnPlateau"; }
  NamedTensors state_dict() const override;
  void load_state_dict(const NamedTensors& state) override;

 private:
  Optimizer& optimizer_;
  Options options_;
  double best_;
  std::int64_t bad_epochs_ = 0, cooldown_left_ = 0;
};

}  // namespace nudge::optim

#pragma once
/// Learning-rate schedulers, as torch.optim.lr_scheduler: call step() once per epoch, after
/// the optimizer's step.
#include <cstdint>
#include <vector>

#include "optim/optimizer.h"

namespace nudge::optim {

/// Base for schedulers whose rate is a function of the epoch and each group's initial rate.
class LRScheduler {
 public:
  explicit LRScheduler(Optimizer& optimizer);
  virtual ~LRScheduler() = default;
  void step();
  std::int64_t epoch() const { return epoch_; }

 protected:
  virtual double rate_at(std::int64_t epoch, double base_lr) const = 0;

 private:
  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  std::int64_t epoch_ = 0;
};

/// lr = base · gamma^⌊epoch / step_size⌋
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma = 0.1);

 protected:
  double rate_at(std::int64_t epoch, double base_lr) const override;

 private:
  std::int64_t step_size_;
  double gamma_;
};

/// lr = base · gamma^epoch
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma) : LRScheduler(optimizer), gamma_(gamma) {}

 protected:
  double rate_at(std::int64_t epoch, double base_lr) const override;

 private:
  double gamma_;
};

/// lr = eta_min + (base − eta_min) · (1 + cos(π · epoch / T_max)) / 2
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, std::int64_t t_max, double eta_min = 0);

 protected:
  double rate_at(std::int64_t epoch, double base_lr) const override;

 private:
  std::int64_t t_max_;
  double eta_min_;
};

/// Multiplies the rate by `factor` once the metric has not improved (by a relative `threshold`,
/// lower is better) for more than `patience` epochs; then waits `cooldown` epochs.
class ReduceLROnPlateau {
 public:
  struct Options {
    double factor = 0.1;
    std::int64_t patience = 10;
    double threshold = 1e-4;
    std::int64_t cooldown = 0;
    double min_lr = 0;
  };
  ReduceLROnPlateau(Optimizer& optimizer, Options options);
  explicit ReduceLROnPlateau(Optimizer& optimizer) : ReduceLROnPlateau(optimizer, Options{}) {}
  void step(double metric);

 private:
  Optimizer& optimizer_;
  Options options_;
  double best_;
  std::int64_t bad_epochs_ = 0, cooldown_left_ = 0;
};

}  // namespace nudge::optim

#include "optim/scheduler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "core/error.h"

namespace nudge::optim {

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {
  for (const auto& g : optimizer.param_groups()) base_lrs_.push_back(g.lr);
}

void LRScheduler::step() {
  ++epoch_;
  auto& groups = optimizer_.param_groups();
  for (std::size_t i = 0; i < groups.size(); ++i) groups[i].lr = rate_at(epoch_, base_lrs_[i]);
}

StepLR::StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  NUDGE_CHECK(step_size > 0, "StepLR: step_size must be positive, got ", step_size);
}

double StepLR::rate_at(std::int64_t epoch, double base_lr) const {
  return base_lr * std::pow(gamma_, static_cast<double>(epoch / step_size_));
}

double ExponentialLR::rate_at(std::int64_t epoch, double base_lr) const {
  return base_lr * std::pow(gamma_, static_cast<double>(epoch));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, std::int64_t t_max, double eta_min)
    : LRScheduler(optimizer), t_max_(t_max), eta_min_(eta_min) {
  NUDGE_CHECK(t_max > 0, "CosineAnnealingLR: T_max must be positive, got ", t_max);
}

double CosineAnnealingLR::rate_at(std::int64_t epoch, double base_lr) const {
  const double phase = std::numbers::pi * static_cast<double>(epoch) / static_cast<double>(t_max_);
  return eta_min_ + (base_lr - eta_min_) * (1 + std::cos(phase)) / 2;
}

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, Options options)
    : optimizer_(optimizer), options_(options), best_(std::numeric_limits<double>::infinity()) {
  NUDGE_CHECK(options.factor > 0 && options.factor < 1, "ReduceLROnPlateau: factor must be in (0, 1), got ",
              options.factor);
}

void ReduceLROnPlateau::step(double metric) {
  if (metric < best_ * (1 - options_.threshold)) {
    best_ = metric;
    bad_epochs_ = 0;
  } else {
    ++bad_epochs_;
  }
  if (cooldown_left_ > 0) {
    --cooldown_left_;
    bad_epochs_ = 0;
  }
  if (bad_epochs_ > options_.patience) {
    for (auto& g : optimizer_.param_groups()) g.lr = std::max(g.lr * options_.factor, options_.min_lr);
    cooldown_left_ = options_.cooldown;
    bad_epochs_ = 0;
  }
}

}  // namespace nudge::optim

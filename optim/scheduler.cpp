#include "optim/scheduler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>

#include "core/error.h"

namespace nudge::optim {

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {
  for (auto& g : optimizer.param_groups()) {
    if (!g.initial_lr) g.initial_lr = g.lr;  // the first scheduler over this group fixes its base
    base_lrs_.push_back(*g.initial_lr);
  }
}

void LRScheduler::apply_rates() {
  auto& groups = optimizer_.param_groups();
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const double lr = group_rate_at(epoch_, base_lrs_[i], i);
    check_lr(lr, name());
    groups[i].lr = lr;
  }
}

void LRScheduler::step() {
  ++epoch_;
  apply_rates();
}

NamedTensors LRScheduler::state_dict() const {
  NamedTensors state{{"type." + std::string(name()), state_scalar(std::int64_t{0})},
                     {"last_epoch", state_scalar(epoch_)}};
  for (std::size_t g = 0; g < base_lrs_.size(); ++g)
    state.emplace_back("base_lrs." + std::to_string(g), state_scalar(base_lrs_[g]));
  return state;
}

void LRScheduler::load_state_dict(const NamedTensors& state) {
  StateDictReader reader(state, std::string(name()) + "::load_state_dict");
  reader.expect_type(name());
  const std::int64_t epoch = reader.int64("last_epoch");
  NUDGE_CHECK(epoch >= 0, name(), "::load_state_dict: last_epoch must be >= 0, got ", epoch);
  std::vector<double> base_lrs;
  for (std::size_t g = 0; g < optimizer_.param_groups().size(); ++g) {
    base_lrs.push_back(reader.float64("base_lrs." + std::to_string(g)));
    NUDGE_CHECK(std::isfinite(base_lrs.back()) && base_lrs.back() >= 0, name(), "::load_state_dict: base_lrs.", g,
                " must be finite and >= 0, got ", base_lrs.back());
  }
  reader.finish("a state for " + std::to_string(base_lrs.size()) + " parameter group(s)");
  epoch_ = epoch;
  base_lrs_ = std::move(base_lrs);
  apply_rates();  // the rate of the restored epoch, whichever of optimizer and scheduler loads first
}

StepLR::StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  NUDGE_CHECK(step_size > 0, "StepLR: step_size must be positive, got ", step_size);
  NUDGE_CHECK(std::isfinite(gamma) && gamma > 0, "StepLR: gamma must be finite and > 0, got ", gamma);
  apply_rates();
}

double StepLR::rate_at(std::int64_t epoch, double base_lr) const {
  return base_lr * std::pow(gamma_, static_cast<double>(epoch / step_size_));
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma) : LRScheduler(optimizer), gamma_(gamma) {
  NUDGE_CHECK(std::isfinite(gamma) && gamma > 0, "ExponentialLR: gamma must be finite and > 0, got ", gamma);
  apply_rates();
}

double ExponentialLR::rate_at(std::int64_t epoch, double base_lr) const {
  return base_lr * std::pow(gamma_, static_cast<double>(epoch));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, std::int64_t t_max, double eta_min)
    : LRScheduler(optimizer), t_max_(t_max), eta_min_(eta_min) {
  NUDGE_CHECK(t_max > 0, "CosineAnnealingLR: T_max must be positive, got ", t_max);
  NUDGE_CHECK(std::isfinite(eta_min) && eta_min >= 0, "CosineAnnealingLR: eta_min must be finite and >= 0, got ",
              eta_min);
  apply_rates();
}

double CosineAnnealingLR::rate_at(std::int64_t epoch, double base_lr) const {
  const double phase = std::numbers::pi * static_cast<double>(epoch) / static_cast<double>(t_max_);
  return eta_min_ + (base_lr - eta_min_) * (1 + std::cos(phase)) / 2;
}

LambdaLR::LambdaLR(Optimizer& optimizer, Lambda lambda) : LambdaLR(optimizer, std::vector<Lambda>{std::move(lambda)}) {}

LambdaLR::LambdaLR(Optimizer& optimizer, std::vector<Lambda> lambdas)
    : LRScheduler(optimizer), lambdas_(std::move(lambdas)) {
  const std::size_t groups = optimizer.param_groups().size();
  NUDGE_CHECK(lambdas_.size() == 1 || lambdas_.size() == groups, "LambdaLR: expected ", groups,
              " lambdas (one per parameter group), but got ", lambdas_.size());
  for (const Lambda& l : lambdas_) NUDGE_CHECK(l != nullptr, "LambdaLR: a lambda is empty");
  apply_rates();
}

double LambdaLR::rate_at(std::int64_t epoch, double base_lr) const { return base_lr * lambdas_[0](epoch); }

double LambdaLR::group_rate_at(std::int64_t epoch, double base_lr, std::size_t group) const {
  return base_lr * lambdas_[lambdas_.size() == 1 ? 0 : group](epoch);
}

LinearLR::LinearLR(Optimizer& optimizer, double start_factor, double end_factor, std::int64_t total_iters)
    : LRScheduler(optimizer), start_factor_(start_factor), end_factor_(end_factor), total_iters_(total_iters) {
  NUDGE_CHECK(start_factor > 0 && start_factor <= 1 && end_factor >= 0 && end_factor <= 1,
              "LinearLR: start_factor must be in (0, 1] and end_factor in [0, 1], got ", start_factor, " and ",
              end_factor);
  NUDGE_CHECK(total_iters > 0, "LinearLR: total_iters must be positive, got ", total_iters);
  apply_rates();
}

double LinearLR::rate_at(std::int64_t epoch, double base_lr) const {
  const double done = static_cast<double>(std::min(epoch, total_iters_)) / static_cast<double>(total_iters_);
  return base_lr * (start_factor_ + (end_factor_ - start_factor_) * done);
}

SequentialLR::SequentialLR(Optimizer& optimizer, std::vector<std::shared_ptr<LRScheduler>> schedulers,
                           std::vector<std::int64_t> milestones)
    : LRScheduler(optimizer), schedulers_(std::move(schedulers)), milestones_(std::move(milestones)) {
  NUDGE_CHECK(!schedulers_.empty() && milestones_.size() + 1 == schedulers_.size(),
              "SequentialLR: ", schedulers_.size(), " schedulers need ",
              schedulers_.empty() ? 0 : schedulers_.size() - 1, " milestones, got ", milestones_.size());
  for (std::size_t i = 0; i < schedulers_.size(); ++i) {
    NUDGE_CHECK(schedulers_[i] != nullptr, "SequentialLR: scheduler ", i, " is null");
    NUDGE_CHECK(schedulers_[i]->base_lrs() == base_lrs(), "SequentialLR: scheduler ", i,
                " was built over another optimizer (or other initial rates)");
  }
  for (std::size_t i = 0; i < milestones_.size(); ++i)
    NUDGE_CHECK(milestones_[i] > (i == 0 ? 0 : milestones_[i - 1]),
                "SequentialLR: milestones must be positive and "
                "increasing, got ",
                milestones_[i], " at ", i);
  apply_rates();  // schedulers_[0] at epoch 0 (building the others set their own epoch-0 rates)
}

double SequentialLR::rate_at(std::int64_t epoch, double base_lr) const {
  // The last schedule whose milestone has passed, at its own epoch counted from that milestone.
  std::size_t i = 0;
  while (i < milestones_.size() && epoch >= milestones_[i]) ++i;
  return schedulers_[i]->rate_at(epoch - (i == 0 ? 0 : milestones_[i - 1]), base_lr);
}

double SequentialLR::group_rate_at(std::int64_t epoch, double base_lr, std::size_t group) const {
  std::size_t i = 0;
  while (i < milestones_.size() && epoch >= milestones_[i]) ++i;
  return schedulers_[i]->group_rate_at(epoch - (i == 0 ? 0 : milestones_[i - 1]), base_lr, group);
}

OneCycleLR::OneCycleLR(Optimizer& optimizer, double max_lr, std::int64_t total_steps, Options options)
    : optimizer_(optimizer),
      max_lr_(max_lr),
      total_steps_(total_steps),
      options_(options),
      uses_beta1_(std::string(optimizer.name()) != "SGD") {
  NUDGE_CHECK(std::isfinite(max_lr) && max_lr > 0, "OneCycleLR: max_lr must be finite and > 0, got ", max_lr);
  NUDGE_CHECK(total_steps > 0, "OneCycleLR: total_steps must be positive, got ", total_steps);
  NUDGE_CHECK(options.pct_start > 0 && options.pct_start < 1, "OneCycleLR: pct_start must be in (0, 1), got ",
              options.pct_start);
  NUDGE_CHECK(options.div_factor > 0 && options.final_div_factor > 0 && std::isfinite(options.div_factor) &&
                  std::isfinite(options.final_div_factor),
              "OneCycleLR: div_factor and final_div_factor must be finite and > 0");
  NUDGE_CHECK(!options.cycle_momentum || (options.base_momentum >= 0 && options.base_momentum <= options.max_momentum &&
                                          options.max_momentum < 1),
              "OneCycleLR: momenta must satisfy 0 <= base_momentum <= max_momentum < 1, got ", options.base_momentum,
              " and ", options.max_momentum);
  for (auto& g : optimizer_.param_groups()) g.initial_lr = max_lr_ / options_.div_factor;
  apply();
}

void OneCycleLR::apply() {
  NUDGE_CHECK(step_ <= total_steps_, "OneCycleLR: stepped ", step_, " times, beyond total_steps = ", total_steps_);
  const double initial = max_lr_ / options_.div_factor, min_lr = initial / options_.final_div_factor;
  // PyTorch's two phases and its cosine annealing, to the same floating-point operations.
  const double phase_end = options_.pct_start * static_cast<double>(total_steps_) - 1;
  const auto anneal = [](double start, double end, double pct) {
    return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1);
  };
  const auto t = static_cast<double>(step_);
  double lr = 0, momentum = 0;
  if (t <= phase_end) {
    const double pct = t / phase_end;
    lr = anneal(initial, max_lr_, pct);
    momentum = anneal(options_.max_momentum, options_.base_momentum, pct);
  } else {
    const double pct = (t - phase_end) / (static_cast<double>(total_steps_) - 1 - phase_end);
    lr = anneal(max_lr_, min_lr, pct);
    momentum = anneal(options_.base_momentum, options_.max_momentum, pct);
  }
  for (auto& g : optimizer_.param_groups()) {
    g.lr = lr;
    if (!options_.cycle_momentum) continue;
    if (uses_beta1_) g.beta1 = momentum;
    else g.momentum = momentum;
  }
}

void OneCycleLR::step() {
  ++step_;
  apply();
}

NamedTensors OneCycleLR::state_dict() const {
  return {{"type." + std::string(name()), state_scalar(std::int64_t{0})}, {"last_epoch", state_scalar(step_)}};
}

void OneCycleLR::load_state_dict(const NamedTensors& state) {
  StateDictReader reader(state, "OneCycleLR::load_state_dict");
  reader.expect_type(name());
  const std::int64_t step = reader.int64("last_epoch");
  NUDGE_CHECK(step >= 0 && step <= total_steps_, "OneCycleLR::load_state_dict: last_epoch ", step, " is outside 0..",
              total_steps_);
  reader.finish("last_epoch");
  step_ = step;
  apply();
}

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, Options options)
    : optimizer_(optimizer), options_(options), best_(std::numeric_limits<double>::infinity()) {
  NUDGE_CHECK(options.factor > 0 && options.factor < 1, "ReduceLROnPlateau: factor must be in (0, 1), got ",
              options.factor);
}

NamedTensors ReduceLROnPlateau::state_dict() const {
  return {{"type." + std::string(name()), state_scalar(std::int64_t{0})},
          {"best", state_scalar(best_)},
          {"bad_epochs", state_scalar(bad_epochs_)},
          {"cooldown_left", state_scalar(cooldown_left_)}};
}

void ReduceLROnPlateau::load_state_dict(const NamedTensors& state) {
  StateDictReader reader(state, "ReduceLROnPlateau::load_state_dict");
  reader.expect_type(name());
  const double best = reader.float64("best");
  const std::int64_t bad_epochs = reader.int64("bad_epochs"), cooldown_left = reader.int64("cooldown_left");
  NUDGE_CHECK(!std::isnan(best) && bad_epochs >= 0 && cooldown_left >= 0,
              "ReduceLROnPlateau::load_state_dict: invalid state (best ", best, ", bad_epochs ", bad_epochs,
              ", cooldown_left ", cooldown_left, ")");
  reader.finish("best, bad_epochs and cooldown_left");
  best_ = best;
  bad_epochs_ = bad_epochs;
  cooldown_left_ = cooldown_left;
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

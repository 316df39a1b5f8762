#pragma once
/// optim::Optimizer: parameter groups (each with its own learning rate) and per-parameter state.
/// step() runs under NoGradGuard and updates parameters in place.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace nudge::optim {

/// Throws naming `who` unless `lr` is finite and >= 0 (a learning rate of inf or NaN turns every
/// weight into NaN at the first step).
void check_lr(double lr, const char* who);

struct ParamGroup {
  ParamGroup(std::vector<Tensor> params, double lr) : params(std::move(params)), lr(lr) {}
  std::vector<Tensor> params;
  double lr;
  /// The rate schedulers start from: set by the first scheduler built over the group, saved and
  /// restored with the optimizer's state (as PyTorch's param_groups[i]["initial_lr"]).
  std::optional<double> initial_lr;
  /// This group's own values of the optimizer's options (unset: the optimizer's). weight_decay
  /// applies to every optimizer; momentum, dampening and nesterov to SGD; beta1, beta2 and eps to
  /// Adam and AdamW. No decay on biases, as researchers do it:
  ///   optim::ParamGroup weights(w, 0.1), biases(b, 0.1);
  ///   biases.weight_decay = 0;
  ///   optim::AdamW opt({weights, biases}, {.lr = 0.1});
  std::optional<double> weight_decay, momentum, dampening, beta1, beta2, eps;
  std::optional<bool> nesterov;
};

/// The state an optimizer keeps for one parameter (momentum buffers, moment estimates, step
/// counts). Each kind lists its fields by name so checkpoints can save and restore them.
struct ParamState {
  virtual ~ParamState() = default;
  /// Calls `tensor` for every state tensor (possibly undefined) and `counter` for every count.
  virtual void fields(const std::function<void(const char*, Tensor&)>& tensor,
                      const std::function<void(const char*, std::int64_t&)>& counter) = 0;
};

class Optimizer {
 public:
  explicit Optimizer(std::vector<ParamGroup> groups);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// One update of every parameter that has a gradient.
  virtual void step() = 0;
  /// Clears gradients: to undefined (the default, as PyTorch ≥ 2.0) or to zeros.
  void zero_grad(bool set_to_none = true);

  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  /// Learning rate of the first group; set_lr sets every group's.
  double lr() const { return groups_.front().lr; }
  void set_lr(double lr);

  /// "SGD", "Adam", ...: recorded in checkpoints so a file is never loaded into the wrong kind.
  virtual const char* name() const = 0;

  /// Everything needed to resume: "param_groups.<g>.lr" (0-dim float64) and, for each parameter
  /// with state, "state.<i>.<field>" — i counts parameters over all groups, as in PyTorch.
  /// Counters are 0-dim int64 tensors. Tensors are copies.
  std::vector<std::pair<std::string, Tensor>> state_dict() const;
  /// Restores a state_dict() of an optimizer of the same kind over parameters of the same
  /// shapes. Everything is checked before anything changes.
  void load_state_dict(const std::vector<std::pair<std::string, Tensor>>& state);

 protected:
  /// State of one parameter (created on first use), keyed by the parameter's identity.
  template <class State> State& state_of(const Tensor& p) {
    auto& slot = state_[p.impl_ptr().get()];
    if (!slot) slot = std::make_shared<State>();
    return static_cast<State&>(*slot);
  }
  /// A fresh state of this optimizer's kind (load_state_dict fills it in).
  virtual std::shared_ptr<ParamState> make_state() const = 0;

  /// The non-empty parameters of `group` that have a gradient, in order (frozen ones have none).
  static std::vector<Tensor> params_with_grad(const ParamGroup& group);

  /// Group `group`'s learning rate as a one-element float64 tensor on `device`: the value the
  /// update kernels read, so that a step captured into a Graph (core/graph.h) uses the rate of the
  /// moment of each replay. It is set from param_groups()[group].lr before each eager step and
  /// before each replay, so schedulers, set_lr() and direct writes all reach a replayed step.
  /// Created by the first step on each device, which therefore cannot be captured.
  const Tensor& device_lr(std::size_t group, Device device);
  /// Throws unless `p`'s device is free to create optimizer state: a first step (which creates
  /// state, then reused by later steps) cannot be recorded into a Graph, every replay would repeat it.
  void check_not_capturing_first_step(Device device) const;

 private:
  /// The device copies of the learning rates, shared with the hooks of captured graphs (which
  /// hold them weakly: a graph may outlive its optimizer).
  struct DeviceRates {
    struct Cell {
      Device device;
      Tensor value;
      double written;  // the rate last written to `value`
      /// Writes `lr` into `value` unless it is already there.
      void write(double lr);
    };
    const std::vector<ParamGroup>* groups;
    std::vector<std::vector<Cell>> cells;  // per group
    /// Writes every rate that changed since it was last written.
    void refresh();
  };

  std::vector<ParamGroup> groups_;
  std::unordered_map<const TensorImpl*, std::shared_ptr<ParamState>> state_;
  std::shared_ptr<DeviceRates> rates_ = std::make_shared<DeviceRates>(DeviceRates{&groups_, {}});
};

}  // namespace nudge::optim

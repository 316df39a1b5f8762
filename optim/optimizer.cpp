#include "optim/optimizer.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/autograd/grad_mode.h"
#include "core/graph.h"
#include "core/factory.h"
#include "core/ops.h"
#include "core/state_dict.h"

namespace nudge::optim {

void check_lr(double lr, const char* who) {
  NUDGE_CHECK(std::isfinite(lr) && lr >= 0, who, ": the learning rate must be finite and >= 0, got ", lr);
}

Optimizer::Optimizer(std::vector<ParamGroup> groups) : groups_(std::move(groups)) {
  std::size_t count = 0;
  for (const auto& g : groups_) count += g.params.size();
  NUDGE_CHECK(count > 0, "optimizer: got an empty parameter list");
  std::size_t index = 0;
  std::map<const void*, std::size_t> first_index;  // storage → the first parameter in it
  for (const auto& g : groups_) {
    check_lr(g.lr, "optimizer");
    for (const auto& p : g.params) {
      // A leaf that does not require grad (a frozen layer) is accepted and never updated: it has
      // no gradient (PyTorch's behaviour). A non-leaf would be updated behind its graph's back.
      NUDGE_CHECK(p.defined() && p.is_leaf(), "optimizer: parameters must be leaf tensors, got a ", describe(p));
      // One update per element: a tensor listed twice would be updated twice on the CPU and by two
      // blocks at once in CUDA's one-launch step.
      const auto [it, first] = first_index.emplace(p.storage().get(), index);
      NUDGE_CHECK(first, "optimizer: parameters ", it->second, " and ", index,
                  " share memory (the same tensor listed twice, or two tensors over one storage); list each parameter "
                  "once (Module::parameters() does)");
      ++index;
    }
  }
}

void Optimizer::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (auto& g : groups_)
    for (auto& p : g.params) {
      if (set_to_none) p.set_grad(Tensor());
      else if (p.grad().defined()) p.grad().zero_();
    }
}

void Optimizer::set_lr(double lr) {
  check_lr(lr, "set_lr");
  for (auto& g : groups_) g.lr = lr;
}

std::vector<Tensor> Optimizer::params_with_grad(const ParamGroup& group) {
  std::vector<Tensor> out;
  for (const Tensor& p : group.params)
    if (p.grad().defined() && p.numel() > 0) out.push_back(p);
  return out;
}

void Optimizer::DeviceRates::Cell::write(double lr) {
  if (written == lr) return;
  value.fill_(lr);
  written = lr;
}

void Optimizer::DeviceRates::refresh() {
  for (std::size_t g = 0; g < cells.size() && g < groups->size(); ++g)
    for (Cell& cell : cells[g]) cell.write((*groups)[g].lr);
}

const Tensor& Optimizer::device_lr(std::size_t group, Device device) {
  if (rates_->cells.size() < groups_.size()) rates_->cells.resize(groups_.size());
  std::vector<DeviceRates::Cell>& cells = rates_->cells[group];
  auto it = std::find_if(cells.begin(), cells.end(), [&](const DeviceRates::Cell& c) { return c.device == device; });
  const double lr = groups_[group].lr;
  if (it == cells.end()) {
    check_not_capturing_first_step(device);
    cells.push_back({device, full({}, lr, TensorOptions(kFloat64).device(device)), lr});
    return cells.back().value;
  }
  if (is_capturing(device)) {
    // Not written now (that would be recorded, freezing the rate): before each replay instead.
    Graph::before_each_replay([weak = std::weak_ptr<DeviceRates>(rates_)] {
      if (const auto rates = weak.lock()) rates->refresh();
    });
    return it->value;
  }
  it->write(lr);
  return it->value;
}

void Optimizer::check_not_capturing_first_step(Device device) const {
  NUDGE_CHECK(!is_capturing(device), name(), ": the first step (which creates the optimizer's state on ", device,
              ") cannot be recorded into a Graph, every replay would repeat it; run one eager step before capturing");
}

namespace {
/// Every parameter over all groups, in order: state.<i> refers to params[i].
std::vector<Tensor> flat_params(const std::vector<ParamGroup>& groups) {
  std::vector<Tensor> params;
  for (const auto& g : groups) params.insert(params.end(), g.params.begin(), g.params.end());
  return params;
}
}  // namespace

std::vector<std::pair<std::string, Tensor>> Optimizer::state_dict() const {
  NoGradGuard no_grad;
  std::vector<std::pair<std::string, Tensor>> out;
  out.emplace_back("type." + std::string(name()), state_scalar(std::int64_t{0}));  // names the kind
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    out.emplace_back("param_groups." + std::to_string(g) + ".lr", state_scalar(groups_[g].lr));
    if (groups_[g].initial_lr)
      out.emplace_back("param_groups." + std::to_string(g) + ".initial_lr", state_scalar(*groups_[g].initial_lr));
  }
  const std::vector<Tensor> params = flat_params(groups_);
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto it = state_.find(params[i].impl_ptr().get());
    if (it == state_.end()) continue;
    const std::string prefix = "state." + std::to_string(i) + ".";
    it->second->fields(
        [&](const char* field, Tensor& t) {
          if (t.defined()) out.emplace_back(prefix + field, t.clone());
        },
        [&](const char* field, std::int64_t& c) { out.emplace_back(prefix + field, state_scalar(c)); });
  }
  return out;
}

void Optimizer::load_state_dict(const std::vector<std::pair<std::string, Tensor>>& state) {
  const std::string where = std::string(name()) + "::load_state_dict";
  StateDictReader reader(state, where);
  reader.expect_type(name());
  // Check everything and build the new state aside; commit only at the end. The same checks as
  // the constructor's: a checkpoint must not smuggle in what the options would refuse.
  std::vector<double> lrs;
  std::vector<std::optional<double>> initial_lrs;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const std::string key = "param_groups." + std::to_string(g) + ".lr";
    NUDGE_CHECK(reader.has(key), where, ": \"", key, "\" is missing (the state has fewer parameter groups?)");
    lrs.push_back(reader.float64(key));
    check_lr(lrs.back(), where.c_str());
    const std::string initial_key = "param_groups." + std::to_string(g) + ".initial_lr";
    initial_lrs.push_back(std::nullopt);
    if (reader.has(initial_key)) {
      initial_lrs.back() = reader.float64(initial_key);
      check_lr(*initial_lrs.back(), where.c_str());
    }
  }
  const std::vector<Tensor> params = flat_params(groups_);
  std::unordered_map<const TensorImpl*, std::shared_ptr<ParamState>> loaded;
  NoGradGuard no_grad;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const std::string prefix = "state." + std::to_string(i) + ".";
    if (reader.keys_with_prefix(prefix).empty()) continue;  // no state for this parameter
    std::shared_ptr<ParamState> ps = make_state();
    const Tensor& p = params[i];
    ps->fields(
        [&](const char* field, Tensor& t) {
          const std::string key = prefix + field;
          if (!reader.has(key)) return;
          const Tensor& saved = reader.tensor(key);
          NUDGE_CHECK(saved.shape() == p.shape(), where, ": \"", key, "\" has shape ", shape_str(saved.shape()),
                      " but parameter ", i, " has shape ", shape_str(p.shape()));
          NUDGE_CHECK_AS(NonFiniteError, all_finite(saved), where, ": \"", key, "\" holds NaN or inf");
          t = saved.to(p.device()).to(p.dtype()).clone();
        },
        [&](const char* field, std::int64_t& c) {
          const std::string key = prefix + field;
          c = reader.int64(key);
          NUDGE_CHECK(c >= 0, where, ": \"", key, "\" must be >= 0, got ", c);
        });
    loaded[p.impl_ptr().get()] = std::move(ps);
  }
  reader.finish("a state for " + std::to_string(params.size()) + " parameters in " + std::to_string(groups_.size()) +
                " group(s)");
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    groups_[g].lr = lrs[g];
    if (initial_lrs[g]) groups_[g].initial_lr = initial_lrs[g];
  }
  state_ = std::move(loaded);
}

}  // namespace nudge::optim

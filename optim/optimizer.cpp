#include "optim/optimizer.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/autograd/grad_mode.h"
#include "core/cuda_graph.h"
#include "core/factory.h"

namespace nudge::optim {

Optimizer::Optimizer(std::vector<ParamGroup> groups) : groups_(std::move(groups)) {
  std::size_t count = 0;
  for (const auto& g : groups_) count += g.params.size();
  NUDGE_CHECK(count > 0, "optimizer: got an empty parameter list");
  std::size_t index = 0;
  std::map<const void*, std::size_t> first_index;  // storage → the first parameter in it
  for (const auto& g : groups_) {
    NUDGE_CHECK(g.lr >= 0, "optimizer: learning rate must be >= 0, got ", g.lr);
    for (const auto& p : g.params) {
      NUDGE_CHECK(p.defined() && p.is_leaf() && p.requires_grad(),
                  "optimizer: parameters must be leaf tensors that require grad, got a ", describe(p));
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
  for (auto& g : groups_) g.lr = lr;
}

void Optimizer::for_each_param_with_grad(const std::function<void(const Tensor& param, double lr)>& visit) const {
  for (const ParamGroup& group : groups_)
    for (const Tensor& p : group.params)
      if (p.grad().defined() && p.numel() > 0) visit(p, group.lr);
}

bool Optimizer::capturing() const {
  std::uint64_t checked = 0;  // one query per device, not per parameter
  for (const ParamGroup& group : groups_)
    for (const Tensor& p : group.params) {
      if (!p.device().is_cuda() || p.device().index() >= 64) continue;
      const std::uint64_t bit = std::uint64_t{1} << p.device().index();
      if (checked & bit) continue;
      checked |= bit;
      if (cuda::is_capturing(p.device().index())) return true;
    }
  return false;
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
  out.emplace_back("type." + std::string(name()), zeros({}, kInt64));  // names the kind; see load_state_dict
  for (std::size_t g = 0; g < groups_.size(); ++g)
    out.emplace_back("param_groups." + std::to_string(g) + ".lr", full({}, groups_[g].lr, kFloat64));
  const std::vector<Tensor> params = flat_params(groups_);
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto it = state_.find(params[i].impl_ptr().get());
    if (it == state_.end()) continue;
    const std::string prefix = "state." + std::to_string(i) + ".";
    it->second->fields(
        [&](const char* field, Tensor& t) {
          if (t.defined()) out.emplace_back(prefix + field, t.clone());
        },
        [&](const char* field, std::int64_t& c) { out.emplace_back(prefix + field, full({}, c, kInt64)); });
  }
  return out;
}

void Optimizer::load_state_dict(const std::vector<std::pair<std::string, Tensor>>& state) {
  const std::string where = std::string(name()) + "::load_state_dict";
  std::map<std::string, Tensor> given(state.begin(), state.end());
  const std::string type_key = "type." + std::string(name());
  if (!given.count(type_key)) {
    std::string found = "none";
    for (const auto& [key, t] : given)
      if (key.rfind("type.", 0) == 0) found = key.substr(5);
    NUDGE_FAIL(where, ": the state was saved by a ", found, " optimizer, not ", name());
  }
  std::set<std::string> used{type_key};
  auto scalar = [&](const std::string& key, DType dtype) -> const Tensor& {
    const Tensor& t = given.at(key);
    NUDGE_CHECK(t.numel() == 1 && t.dtype() == dtype, where, ": \"", key, "\" must be one ", dtype_name(dtype),
                " value, got a ", describe(t));
    used.insert(key);
    return t;
  };
  // Check everything and build the new state aside; commit only at the end.
  std::vector<double> lrs;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const std::string key = "param_groups." + std::to_string(g) + ".lr";
    NUDGE_CHECK(given.count(key), where, ": \"", key, "\" is missing (the state has fewer parameter groups?)");
    lrs.push_back(scalar(key, kFloat64).item<double>());
  }
  const std::vector<Tensor> params = flat_params(groups_);
  std::unordered_map<const TensorImpl*, std::shared_ptr<ParamState>> loaded;
  NoGradGuard no_grad;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const std::string prefix = "state." + std::to_string(i) + ".";
    const auto first = given.lower_bound(prefix);
    if (first == given.end() || first->first.rfind(prefix, 0) != 0) continue;  // no state for this parameter
    std::shared_ptr<ParamState> ps = make_state();
    const Tensor& p = params[i];
    ps->fields(
        [&](const char* field, Tensor& t) {
          const std::string key = prefix + field;
          if (!given.count(key)) return;
          const Tensor& saved = given.at(key);
          NUDGE_CHECK(saved.shape() == p.shape(), where, ": \"", key, "\" has shape ", shape_str(saved.shape()),
                      " but parameter ", i, " has shape ", shape_str(p.shape()));
          used.insert(key);
          t = saved.to(p.device()).to(p.dtype()).clone();
        },
        [&](const char* field, std::int64_t& c) {
          const std::string key = prefix + field;
          NUDGE_CHECK(given.count(key), where, ": \"", key, "\" is missing");
          c = scalar(key, kInt64).item<std::int64_t>();
        });
    loaded[p.impl_ptr().get()] = std::move(ps);
  }
  for (const auto& [key, t] : given)
    NUDGE_CHECK(used.count(key), where, ": unexpected entry \"", key, "\" (a state for ", params.size(),
                " parameters in ", groups_.size(), " group(s) was expected)");
  for (std::size_t g = 0; g < groups_.size(); ++g) groups_[g].lr = lrs[g];
  state_ = std::move(loaded);
}

}  // namespace nudge::optim

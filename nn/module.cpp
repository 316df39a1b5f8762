#include "nn/module.h"

#include <set>

#include "core/autograd/grad_mode.h"
#include "core/ops.h"

namespace nudge::nn {

namespace {

/// Replaces the data behind `t` (every handle to it sees the change), keeping it a leaf.
void rebind(Tensor& t, const Tensor& data) {
  TensorImpl& impl = t.impl();
  const Tensor fresh = data.contiguous();
  impl.storage = fresh.storage();
  impl.set_geometry(fresh.shape(), fresh.strides(), fresh.storage_offset());
  impl.dtype = fresh.dtype();
}

}  // namespace

/// Parameters, buffers and children share one namespace per module, as in PyTorch.
void check_new_name(const std::string& name, const char* op, const std::vector<std::pair<std::string, Tensor>>& params,
                    const std::vector<std::pair<std::string, Tensor>>& buffers,
                    const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children) {
  NUDGE_CHECK(!name.empty() && name.find('.') == std::string::npos, op, ": invalid name \"", name, "\"");
  bool taken = false;
  for (const auto& entry : params) taken = taken || entry.first == name;
  for (const auto& entry : buffers) taken = taken || entry.first == name;
  for (const auto& entry : children) taken = taken || entry.first == name;
  NUDGE_CHECK(!taken, op, ": \"", name, "\" is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor tensor, bool requires_grad) {
  check_new_name(name, "register_parameter", parameters_, buffers_, children_);
  tensor = tensor.detach();
  if (requires_grad) tensor.requires_grad_();
  parameters_.emplace_back(name, tensor);
  return tensor;
}

Tensor Module::register_buffer(const std::string& name, Tensor tensor) {
  check_new_name(name, "register_buffer", parameters_, buffers_, children_);
  NUDGE_CHECK(tensor.defined(), "register_buffer: \"", name, "\" is undefined");
  tensor = tensor.detach();
  buffers_.emplace_back(name, tensor);
  return tensor;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  NUDGE_CHECK(module != nullptr, "register_module: \"", name, "\" is null");
  check_new_name(name, "register_module", parameters_, buffers_, children_);
  children_.emplace_back(name, std::move(module));
}

std::vector<std::pair<std::string, Tensor>> Module::named_state() const {
  std::vector<std::pair<std::string, Tensor>> out = parameters_;
  out.insert(out.end(), buffers_.begin(), buffers_.end());
  for (const auto& [child_name, child] : children_)
    for (auto& [name, t] : child->named_state()) out.emplace_back(child_name + "." + name, t);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out = buffers_;
  if (recurse)
    for (const auto& [child_name, child] : children_)
      for (auto& [name, b] : child->named_buffers(true)) out.emplace_back(child_name + "." + name, b);
  std::set<const TensorImpl*> seen;
  std::erase_if(out, [&](const auto& named) { return !seen.insert(&named.second.impl()).second; });
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, b] : named_buffers(recurse)) out.push_back(b);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(bool recurse, bool remove_duplicate) const {
  std::vector<std::pair<std::string, Tensor>> out = parameters_;
  if (recurse)
    for (const auto& [child_name, child] : children_)
      for (auto& [name, p] : child->named_parameters(true, false)) out.emplace_back(child_name + "." + name, p);
  if (!remove_duplicate) return out;
  std::set<const TensorImpl*> seen;
  std::erase_if(out, [&](const auto& named) { return !seen.insert(&named.second.impl()).second; });
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, p] : named_parameters(recurse)) out.push_back(p);
  return out;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::to(Device device) {
  NoGradGuard no_grad;
  for (Tensor& p : parameters()) {
    const Tensor grad = p.grad();
    rebind(p, p.to(device));
    if (grad.defined()) p.set_grad(grad.to(device));
  }
  for (Tensor& b : buffers()) rebind(b, b.to(device));
}

void Module::to(DType dtype) {
  NUDGE_CHECK(is_floating(dtype), "Module::to: parameters must stay float, got ", dtype);
  NoGradGuard no_grad;
  for (Tensor& p : parameters()) {
    rebind(p, p.to(dtype));
    p.set_grad(Tensor());
  }
  for (Tensor& b : buffers())
    if (is_floating(b.dtype())) rebind(b, b.to(dtype));
}

void Module::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (Tensor& p : parameters()) {
    if (set_to_none) p.set_grad(Tensor());
    else if (p.grad().defined()) p.grad().zero_();
  }
}

StateDict Module::state_dict() const {
  NoGradGuard no_grad;
  StateDict out;
  for (auto& [name, t] : named_state()) out.emplace_back(name, t.detach().clone());
  return out;
}

void Module::load_state_dict(const StateDict& state, bool strict) {
  const auto own = named_state();
  std::set<std::string> given;
  for (const auto& [name, t] : state) given.insert(name);
  std::string missing, unexpected;
  for (const auto& [name, p] : own)
    if (!given.count(name)) missing += (missing.empty() ? "" : ", ") + name;
  std::set<std::string> known;
  for (const auto& [name, p] : own) known.insert(name);
  for (const auto& [name, t] : state)
    if (!known.count(name)) unexpected += (unexpected.empty() ? "" : ", ") + name;
  NUDGE_CHECK(!strict || (missing.empty() && unexpected.empty()),
              "load_state_dict: ", missing.empty() ? "" : "missing keys: " + missing,
              missing.empty() || unexpected.empty() ? "" : "; ",
              unexpected.empty() ? "" : "unexpected keys: " + unexpected);
  for (const auto& [name, t] : state)
    for (const auto& [own_name, p] : own)
      if (own_name == name)
        NUDGE_CHECK(t.shape() == p.shape(), "load_state_dict: \"", name, "\" has shape ", shape_str(t.shape()),
                    " in the state dict but ", shape_str(p.shape()), " in the model");
  NoGradGuard no_grad;
  for (const auto& [name, t] : state)
    for (auto [own_name, p] : own)
      if (own_name == name) p.copy_(t);
}

}  // namespace nudge::nn

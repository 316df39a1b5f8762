#pragma once
/// nn::Module: the base of every layer and model, in the spirit of PyTorch's C++ frontend.
/// A module owns named parameters and named child modules; names join with dots
/// ("0.weight", "encoder.1.bias") in named_parameters() and state_dict().
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace nudge::nn {

/// Parameters and buffers by dotted name: each module's parameters, then its buffers, then its
/// children's (PyTorch's order).
using StateDict = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  virtual ~Module() = default;

  /// The computation of this module.
  virtual Tensor forward(const Tensor& input) = 0;
  Tensor operator()(const Tensor& input) { return forward(input); }

  /// Parameters of this module and (recursively) its children, each once, as in PyTorch: a module
  /// used twice (`Sequential(lin, ReLU(), lin)`) lists its parameters under their first name.
  /// state_dict() keeps every name, so that the saved file reads like PyTorch's.
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true, bool remove_duplicate = true) const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const { return children_; }

  /// Buffers: state that is saved, loaded and moved with the module but is not trained
  /// (BatchNorm's running statistics). Each once, like parameters.
  std::vector<Tensor> buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;

  /// Training mode (the default) or evaluation mode, recursively.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  /// Moves every parameter (and its gradient) and buffer to `device` in place: tensors held
  /// elsewhere (an optimizer's, say) see the move.
  void to(Device device);
  /// Converts every parameter and float buffer to a float dtype in place (int64 buffers, such as
  /// a step count, stay int64, as in PyTorch).
  void to(DType dtype);

  /// Clears gradients: to undefined (the default, as PyTorch), or to zeros.
  void zero_grad(bool set_to_none = true);

  /// Copies of the parameters and buffers, by dotted name.
  StateDict state_dict() const;
  /// Copies values into the parameters and buffers. `strict`: every name must match both ways.
  /// Shapes must match. Checks everything before changing anything.
  void load_state_dict(const StateDict& state, bool strict = true);

 protected:
  /// Registers a parameter (a leaf that requires grad) and returns it.
  Tensor register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  /// Registers a buffer (no gradient; saved in state_dict, moved by `to`) and returns it. Update
  /// it in place (`running_mean.mul_(0.9)`) so the registered handle sees the change.
  Tensor register_buffer(const std::string& name, Tensor tensor);
  /// Registers a child module and returns it.
  template <class M> std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  /// This module's own tensors and then its children's, by dotted name, with duplicates.
  std::vector<std::pair<std::string, Tensor>> named_state() const;
  std::vector<std::pair<std::string, Tensor>> parameters_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace nudge::nn

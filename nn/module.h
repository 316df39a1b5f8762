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

/// Parameters by dotted name, in registration order.
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

  /// Training mode (the default) or evaluation mode, recursively.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  /// Moves every parameter (and its gradient) to `device` in place: tensors held elsewhere
  /// (an optimizer's, say) see the move.
  void to(Device device);
  /// Converts every parameter to a float dtype in place.
  void to(DType dtype);

  /// Clears gradients: to undefined (the default, as PyTorch), or to zeros.
  void zero_grad(bool set_to_none = true);

  /// Copies of the parameters, by dotted name.
  StateDict state_dict() const;
  /// Copies values into the parameters. `strict`: every name must match both ways. Shapes must
  /// match. Checks everything before changing anything.
  void load_state_dict(const StateDict& state, bool strict = true);

 protected:
  /// Registers a parameter (a leaf that requires grad) and returns it.
  Tensor register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  /// Registers a child module and returns it.
  template <class M> std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  std::vector<std::pair<std::string, Tensor>> parameters_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace nudge::nn

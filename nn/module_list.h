#pragma once
/// nn::ModuleList: modules held in order and registered as children "0", "1", ... (so their
/// parameters and buffers are found, saved and moved), called by your own forward. It has no
/// forward of its own, as in PyTorch.
#include <memory>
#include <type_traits>

#include "nn/module.h"

namespace nudge::nn {

class ModuleList : public Module {
 public:
  ModuleList() = default;
  /// `ModuleList(Linear(2, 3), ReLU())`. Never a copy constructor: `ModuleList b(a)` copies the
  /// list (sharing its modules), it does not append `a` to a new one.
  template <class... Modules>
  requires(sizeof...(Modules) != 1 ||
           !(std::is_base_of_v<ModuleList, std::decay_t<Modules>> || ...)) explicit ModuleList(Modules&&... modules) {
    (push_back(std::forward<Modules>(modules)), ...);
  }

  /// Appends a module (a value, moved in, or a shared_ptr to one) and returns it.
  template <class M> auto push_back(M&& module) {
    if constexpr (std::is_convertible_v<M, std::shared_ptr<Module>>) {
      auto shared = std::forward<M>(module);
      append(shared);
      return shared;
    } else {
      auto shared = std::make_shared<std::decay_t<M>>(std::forward<M>(module));
      append(shared);
      return shared;
    }
  }

  Tensor forward(const Tensor& input) override;
  std::size_t size() const { return modules_.size(); }
  const std::shared_ptr<Module>& operator[](std::size_t i) const;
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

 private:
  void append(std::shared_ptr<Module> module);
  std::vector<std::shared_ptr<Module>> modules_;
};

}  // namespace nudge::nn

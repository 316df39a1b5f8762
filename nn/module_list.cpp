#include "nn/module_list.h"

#include <string>

namespace nudge::nn {

void ModuleList::append(std::shared_ptr<Module> module) {
  register_module(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
}

Tensor ModuleList::forward(const Tensor&) {
  NUDGE_FAIL("nn::ModuleList has no forward: call its modules from your own module's forward");
}

const std::shared_ptr<Module>& ModuleList::operator[](std::size_t i) const {
  NUDGE_CHECK(i < modules_.size(), "nn::ModuleList: index ", i, " is out of range for ", modules_.size(), " modules");
  return modules_[i];
}

}  // namespace nudge::nn

#pragma once
/// Checkpoints as safetensors files: a model's parameters under their dotted names (the names
/// PyTorch's state_dict uses for the same architecture), or an optimizer's state.
///
///   nudge::save(model, "model.safetensors");      nudge::load(model, "model.safetensors");
///   nudge::save(optimizer, "optim.safetensors");  nudge::load(optimizer, "optim.safetensors");
///
/// Writes are atomic (temporary file, then rename). A load reads and checks the whole file and
/// every name and shape before touching the model or optimizer: on any error they are unchanged.
#include <string>

#include "serialization/safetensors.h"
#include "nn/module.h"
#include "optim/optimizer.h"

namespace nudge {

void save(const nn::Module& module, const std::string& path);
void save(const optim::Optimizer& optimizer, const std::string& path);
/// Any named tensors (a state dict, say).
void save(const serialization::NamedTensors& tensors, const std::string& path);

/// Parameters into `module` (strict: the names must match exactly, as must shapes).
void load(nn::Module& module, const std::string& path);
/// State into an optimizer of the same kind over the same parameter shapes.
void load(optim::Optimizer& optimizer, const std::string& path);
/// The tensors of a file, on `device`.
serialization::NamedTensors load(const std::string& path, Device device = Device::cpu());

}  // namespace nudge

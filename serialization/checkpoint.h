#pragma once
/// Checkpoints as safetensors files: a model's parameters under their dotted names (the names
/// PyTorch's state_dict uses for the same architecture), or an optimizer's state.
///
///   nudge::save(model, "model.safetensors");      nudge::load(model, "model.safetensors");
///   nudge::save(optimizer, "optim.safetensors");  nudge::load(optimizer, "optim.safetensors");
///
/// Writes are atomic (temporary file, then rename). A load reads and checks the whole file and
/// every name and shape before touching the model or optimizer: on any error they are unchanged.
///
/// For resuming training, save_checkpoint/load_checkpoint keep EVERYTHING in one file: model,
/// optimizer, scheduler, data loader position, the random generators' states, epoch and step
/// counters and the run's settings, so
/// a crash or a kill -9 at any moment leaves either the previous checkpoint or the new one, never
/// a model from one step with an optimizer from another.
#include <cstdint>
#include <map>
#include <string>

#include "core/generator.h"
#include "data/dataloader.h"
#include "nn/module.h"
#include "optim/optimizer.h"
#include "optim/scheduler.h"
#include "serialization/safetensors.h"

namespace nudge {

/// The live objects of a training run (null: not part of this run) and its counters.
struct TrainingState {
  nn::Module* model = nullptr;
  optim::Optimizer* optimizer = nullptr;
  optim::Scheduler* scheduler = nullptr;
  data::DataLoader* loader = nullptr;
  /// Epochs completed and optimizer steps taken.
  std::int64_t epoch = 0, step = 0;
  /// The run's settings as strings (learning rate, architecture, ...): saved, and given back on
  /// load so a program can refuse to resume with conflicting ones.
  serialization::Metadata settings;
  /// The random streams training draws from besides the default generator (which every checkpoint
  /// holds): a module's own Generator for its dropout masks, a transform's. Saved by name and
  /// restored, so a resumed run draws what the uninterrupted one would have drawn.
  std::map<std::string, Generator*> generators;
};

/// Writes every part of `state` to `path` in one atomic, durable write (serialization/file_io.h).
/// Refuses (nudge::NonFiniteError, nothing written) when the model's parameters or the optimizer's
/// state hold NaN or inf: a diverged run never overwrites the last good checkpoint.
void save_checkpoint(const std::string& path, const TrainingState& state);

/// Restores everything `path` holds into `state`: the objects given must be exactly the parts the
/// file has (a scheduler saved but none given is an error, so is the reverse), built the same way.
/// All parts are checked and loaded, or none: on any error every object is as it was. Sets
/// state.epoch, state.step and state.settings; returns a one-line account of what was restored.
std::string load_checkpoint(const std::string& path, TrainingState& state);

/// The settings a checkpoint was saved with (TrainingState::settings), without loading it: a
/// program reads them first to build its model and optimizer the way the saved run did.
serialization::Metadata checkpoint_settings(const std::string& path);

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

#include "serialization/checkpoint.h"

#include <charconv>
#include <functional>
#include <vector>

#include "core/error.h"
#include "core/ops.h"

namespace nudge {

namespace {
// __metadata__ "format" says what a file holds, so a model file is never read as optimizer state.
constexpr const char* kModelFormat = "nudge.module";
constexpr const char* kOptimizerFormat = "nudge.optimizer";
constexpr const char* kCheckpointFormat = "nudge.checkpoint";

void check_format(const serialization::SafetensorsFile& file, const std::string& path, const char* expected) {
  const auto it = file.metadata.find("format");
  // Files from other tools have no format entry: accept them as plain tensors for a model.
  if (it == file.metadata.end() && std::string(expected) == kModelFormat) return;
  NUDGE_CHECK(it != file.metadata.end() && it->second == expected, "load: ", path, " holds ",
              it == file.metadata.end() ? "no nudge format tag" : "\"" + it->second + "\"", ", expected \"", expected,
              "\"");
}

/// Reads and checks `path`, then hands its tensors to `target.load_state_dict`, which checks
/// names and shapes before changing anything.
template <class Target> void load_into(Target& target, const std::string& path, const char* format, const char* what) {
  const serialization::SafetensorsFile file = serialization::read_safetensors(path);
  check_format(file, path, format);
  try {
    target.load_state_dict(file.tensors);
  } catch (const Error& e) {
    NUDGE_FAIL("load: ", path, " does not fit the ", what, ": ", e.what());
  }
}

}  // namespace

void save(const nn::Module& module, const std::string& path) {
  serialization::write_safetensors(path, module.state_dict(), {{"format", kModelFormat}});
}

void save(const optim::Optimizer& optimizer, const std::string& path) {
  serialization::write_safetensors(path, optimizer.state_dict(), {{"format", kOptimizerFormat}});
}

void save(const serialization::NamedTensors& tensors, const std::string& path) {
  serialization::write_safetensors(path, tensors);
}

void load(nn::Module& module, const std::string& path) { load_into(module, path, kModelFormat, "model"); }

void load(optim::Optimizer& optimizer, const std::string& path) {
  load_into(optimizer, path, kOptimizerFormat, "optimizer");
}

serialization::NamedTensors load(const std::string& path, Device device) {
  return serialization::read_safetensors(path, device).tensors;
}

// ---- training checkpoints --------------------------------------------------------------------

namespace {

/// One part of a training state: its name in the file, its tensors, and how to restore them.
struct Part {
  std::string name;  // "model", "optimizer", ... (the tensors' prefix in the file)
  bool given;
  std::function<NamedTensors()> save;
  std::function<void(const NamedTensors&)> load;
  bool must_be_finite;         // parameters and optimizer moments: NaN there means a diverged run
  bool may_be_absent = false;  // in files written before the part existed: loaded as nothing to restore
};

/// The "rng" part: the default generator as "default", then every named one.
NamedTensors generator_states(const TrainingState& s) {
  NamedTensors states{{"default", default_generator().get_state()}};
  for (const auto& [name, generator] : s.generators) states.emplace_back(name, generator->get_state());
  return states;
}

void restore_generators(const TrainingState& s, const NamedTensors& states) {
  std::map<std::string, Generator*> targets = s.generators;
  targets.emplace("default", &default_generator());
  NUDGE_CHECK(states.size() == targets.size(), "the file holds ", states.size(), " generator states, the run has ",
              targets.size(), " generators (the default one and TrainingState::generators)");
  for (const auto& [name, state] : states)
    NUDGE_CHECK(targets.count(name) == 1, "the file holds generator \"", name, "\", which the run does not have");
  // Every state is checked (set_state on a scratch generator) before any generator changes.
  for (const auto& [name, state] : states) Generator().set_state(state);
  for (const auto& [name, state] : states) targets.at(name)->set_state(state);
}

// The pointers in a const TrainingState still name objects that loading may change.
std::vector<Part> parts_of(const TrainingState& s) {
  return {{"model", s.model != nullptr, [&s] { return s.model->state_dict(); },
           [&s](const NamedTensors& t) { s.model->load_state_dict(t); }, true},
          {"optimizer", s.optimizer != nullptr, [&s] { return s.optimizer->state_dict(); },
           [&s](const NamedTensors& t) { s.optimizer->load_state_dict(t); }, true},
          {"scheduler", s.scheduler != nullptr, [&s] { return s.scheduler->state_dict(); },
           [&s](const NamedTensors& t) { s.scheduler->load_state_dict(t); }, false},
          {"loader", s.loader != nullptr, [&s] { return s.loader->state_dict(); },
           [&s](const NamedTensors& t) { s.loader->load_state_dict(t); }, false},
          {"rng", true, [&s] { return generator_states(s); }, [&s](const NamedTensors& t) { restore_generators(s, t); },
           false, /*may_be_absent=*/true}};
}

std::int64_t parse_counter(const serialization::Metadata& metadata, const std::string& key, const std::string& path) {
  const auto it = metadata.find(key);
  NUDGE_CHECK_AS(FormatError, it != metadata.end(), "load_checkpoint: ", path, " has no \"", key, "\" entry");
  std::int64_t value = -1;
  const auto [end, error] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
  NUDGE_CHECK_AS(FormatError, error == std::errc() && end == it->second.data() + it->second.size() && value >= 0,
                 "load_checkpoint: ", path, ": \"", key, "\" is \"", it->second, "\", not a count");
  return value;
}

}  // namespace

void save_checkpoint(const std::string& path, const TrainingState& state) {
  NUDGE_CHECK(state.model != nullptr, "save_checkpoint: ", path, ": a checkpoint needs at least the model");
  NUDGE_CHECK(state.epoch >= 0 && state.step >= 0, "save_checkpoint: epoch and step must be >= 0, got ", state.epoch,
              " and ", state.step);
  NamedTensors all;
  serialization::Metadata metadata{
      {"format", kCheckpointFormat}, {"epoch", std::to_string(state.epoch)}, {"step", std::to_string(state.step)}};
  std::string saved_parts;
  for (const Part& part : parts_of(state)) {
    if (!part.given) continue;
    saved_parts += (saved_parts.empty() ? "" : ",") + part.name;
    for (auto& [name, t] : part.save()) {
      NUDGE_CHECK_AS(NonFiniteError, !part.must_be_finite || all_finite(t), "save_checkpoint: the ", part.name, "'s \"",
                     name, "\" holds NaN or inf (training diverged?); ", path,
                     " is left as it was rather than overwritten with a broken state");
      all.emplace_back(part.name + "." + name, std::move(t));
    }
  }
  metadata["parts"] = saved_parts;
  if (state.optimizer != nullptr) metadata["optimizer"] = state.optimizer->name();
  if (state.scheduler != nullptr) metadata["scheduler"] = state.scheduler->name();
  for (const auto& [key, value] : state.settings) metadata["setting." + key] = value;
  serialization::write_safetensors(path, all, metadata);
}

namespace {

serialization::SafetensorsFile read_checkpoint(const std::string& path) {
  serialization::SafetensorsFile file = serialization::read_safetensors(path);
  const auto format = file.metadata.find("format");
  NUDGE_CHECK_AS(FormatError, format != file.metadata.end() && format->second == kCheckpointFormat,
                 "load_checkpoint: ", path, " is not a training checkpoint (format \"",
                 format == file.metadata.end() ? "none" : format->second,
                 "\"); a file from nudge::save(model, path) loads with nudge::load(model, path)");
  return file;
}

serialization::Metadata settings_in(const serialization::SafetensorsFile& file) {
  serialization::Metadata settings;
  for (const auto& [key, value] : file.metadata)
    if (key.rfind("setting.", 0) == 0) settings[key.substr(8)] = value;
  return settings;
}

}  // namespace

serialization::Metadata checkpoint_settings(const std::string& path) { return settings_in(read_checkpoint(path)); }

std::string load_checkpoint(const std::string& path, TrainingState& state) {
  const serialization::SafetensorsFile file = read_checkpoint(path);
  const std::int64_t epoch = parse_counter(file.metadata, "epoch", path);
  const std::int64_t step = parse_counter(file.metadata, "step", path);
  const auto parts_entry = file.metadata.find("parts");
  const std::string in_file = "," + (parts_entry == file.metadata.end() ? std::string() : parts_entry->second) + ",";

  // The parts given must be exactly the parts saved: a scheduler built after the load would
  // otherwise silently take the resumed (already decayed) rate as its initial one.
  std::vector<Part> parts = parts_of(state);
  std::vector<NamedTensors> loaded(parts.size()), backups(parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const bool saved = in_file.find("," + parts[i].name + ",") != std::string::npos;
    NUDGE_CHECK(!saved || parts[i].given, "load_checkpoint: ", path, " holds ", parts[i].name, " state but no ",
                parts[i].name, " was given to restore it into (build it before loading)");
    NUDGE_CHECK(saved || !parts[i].given || parts[i].may_be_absent, "load_checkpoint: ", path, " has no ",
                parts[i].name, " state, but a ", parts[i].name, " was given");
    if (!saved) parts[i].given = false;  // nothing to restore (an older file without the generators)
  }
  for (const auto& [key, t] : file.tensors) {
    const std::size_t dot = key.find('.');
    std::size_t i = 0;
    while (i < parts.size() && (dot == std::string::npos || key.compare(0, dot, parts[i].name) != 0)) ++i;
    NUDGE_CHECK_AS(FormatError, i < parts.size() && parts[i].given, "load_checkpoint: ", path, ": unexpected tensor \"",
                   key, "\"");
    NUDGE_CHECK_AS(NonFiniteError, !parts[i].must_be_finite || all_finite(t), "load_checkpoint: ", path, ": \"", key,
                   "\" holds NaN or inf");
    loaded[i].emplace_back(key.substr(dot + 1), t);
  }

  // All or nothing: each part checks its state before changing anything, and if a later part
  // refuses, the earlier ones are put back.
  for (std::size_t i = 0; i < parts.size(); ++i)
    if (parts[i].given) backups[i] = parts[i].save();
  std::size_t done = 0;
  try {
    for (; done < parts.size(); ++done)
      if (parts[done].given) parts[done].load(loaded[done]);
  } catch (const Error& e) {
    for (std::size_t i = 0; i < done; ++i)
      if (parts[i].given) parts[i].load(backups[i]);
    NUDGE_FAIL("load_checkpoint: ", path, " does not fit the ", parts[done].name, ": ", e.what());
  }
  state.epoch = epoch;
  state.step = step;
  state.settings = settings_in(file);

  std::string account = "resumed from " + path + ": epoch " + std::to_string(epoch) + ", step " + std::to_string(step) +
                        "; restored the model";
  if (state.optimizer != nullptr) account += ", the " + std::string(state.optimizer->name()) + " optimizer";
  if (state.scheduler != nullptr) account += ", the " + std::string(state.scheduler->name()) + " schedule";
  if (parts.back().given) account += ", the random generators";
  if (state.loader != nullptr)
    account += ", the data order (epoch " + std::to_string(state.loader->epoch()) + ", batch " +
               std::to_string(state.loader->batches_delivered()) + " of " +
               std::to_string(state.loader->num_batches()) + ")";
  return account;
}

}  // namespace nudge

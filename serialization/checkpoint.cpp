#include "serialization/checkpoint.h"

#include "core/error.h"

namespace nudge {

namespace {
// __metadata__ "format" says what a file holds, so a model file is never read as optimizer state.
constexpr const char* kModelFormat = "nudge.module";
constexpr const char* kOptimizerFormat = "nudge.optimizer";

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

}  // namespace nudge

#include "data/checkpoint.h"

#include "core/error.h"

namespace nudge {

namespace {
// __metadata__ "format" says what a file holds, so a model file is never read as optimizer state.
constexpr const char* kModelFormat = "nudge.module";
constexpr const char* kOptimizerFormat = "nudge.optimizer";

void check_format(const data::SafetensorsFile& file, const std::string& path, const char* expected) {
  const auto it = file.metadata.find("format");
  // Files from other tools have no format entry: accept them as plain tensors for a model.
  if (it == file.metadata.end() && std::string(expected) == kModelFormat) return;
  NUDGE_CHECK(it != file.metadata.end() && it->second == expected, "load: ", path, " holds ",
              it == file.metadata.end() ? "no nudge format tag" : "\"" + it->second + "\"", ", expected \"", expected,
              "\"");
}
}  // namespace

void save(const nn::Module& module, const std::string& path) {
  data::write_safetensors(path, module.state_dict(), {{"format", kModelFormat}});
}

void save(const optim::Optimizer& optimizer, const std::string& path) {
  data::write_safetensors(path, optimizer.state_dict(), {{"format", kOptimizerFormat}});
}

void save(const data::NamedTensors& tensors, const std::string& path) { data::write_safetensors(path, tensors); }

void load(nn::Module& module, const std::string& path) {
  const data::SafetensorsFile file = data::read_safetensors(path);
  check_format(file, path, kModelFormat);
  try {
    module.load_state_dict(file.tensors);
  } catch (const Error& e) {
    NUDGE_FAIL("load: ", path, " does not fit the model: ", e.what());
  }
}

void load(optim::Optimizer& optimizer, const std::string& path) {
  const data::SafetensorsFile file = data::read_safetensors(path);
  check_format(file, path, kOptimizerFormat);
  try {
    optimizer.load_state_dict(file.tensors);
  } catch (const Error& e) {
    NUDGE_FAIL("load: ", path, " does not fit the optimizer: ", e.what());
  }
}

data::NamedTensors load(const std::string& path, Device device) { return data::read_safetensors(path, device).tensors; }

}  // namespace nudge

#include "core/error.h"

#include <filesystem>

namespace nudge::detail {

void throw_error(const char* file, int line, const std::string& message) {
  // Only the file name: full build paths make messages long and machine-specific.
  const std::string name = std::filesystem::path(file).filename().string();
  throw Error(message + " [" + name + ":" + std::to_string(line) + "]");
}

}  // namespace nudge::detail
